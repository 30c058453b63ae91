"""Flatten a plan into the ordered list of points the engine runs.

The order is a pure function of the plan (seeded for 'random'), so a resumed scan
regenerates exactly the same indices and skips the ones already in the file.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the plan model imports this module to iterate over its points
    from tamrig.plan.model import ScanPlan


@dataclass(frozen=True)
class ScanPoint:
    """One point: where it sits in the plan and what to set.

    ``delay_index`` equals the number of grid delays for a reference point (the delay
    re-measured at the start of every sweep), so grid coordinates stay unique.
    """

    index: int
    sweep: int
    wavelength_index: int
    fluence_index: int
    delay_index: int
    delay_fs: float
    reference: bool = False

    @property
    def grid(self) -> tuple[int, int, int, int]:
        return (self.sweep, self.wavelength_index, self.fluence_index, self.delay_index)


def delay_order(plan: ScanPlan, sweep: int) -> list[int]:
    """Indices into the delay grid in the order sweep ``sweep`` visits them."""
    n = len(plan.delays_fs())
    order = plan.sweeps.order
    if order == "forward":
        return list(range(n))
    if order == "alternating":
        return list(range(n)) if sweep % 2 == 0 else list(range(n - 1, -1, -1))
    rng = np.random.default_rng([plan.sweeps.seed, sweep])
    return [int(i) for i in rng.permutation(n)]


def scan_points(plan: ScanPlan) -> list[ScanPoint]:
    """Every point of the plan in execution order, indices 0…N-1."""
    delays = plan.delays_fs()
    sizes = {
        "sweep": plan.sweeps.count,
        "wavelength": plan.n_wavelengths(),
        "fluence": plan.n_fluences(),
    }
    reference = plan.delays.reference_fs
    points: list[ScanPoint] = []
    for outer in itertools.product(*(range(sizes[axis]) for axis in plan.nesting)):
        at = dict(zip(plan.nesting, outer, strict=True))
        sweep, wl, fl = at["sweep"], at["wavelength"], at["fluence"]
        if reference is not None:
            points.append(
                ScanPoint(len(points), sweep, wl, fl, len(delays), reference, reference=True)
            )
        for d in delay_order(plan, sweep):
            points.append(ScanPoint(len(points), sweep, wl, fl, d, delays[d]))
    return points
