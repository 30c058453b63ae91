"""A tiny scan on the simulated rig, rig files with injected faults, and the CLI around them.

The fault tests run ``tamrig scan`` in-process: the retry back-off is recorded instead of
slept (its schedule is asserted, the suite stays fast) and the rig the CLI builds is kept so
the test can ask the simulated world whether the pump shutter's blade is really closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import SIM_RIG
from harness_mutate import dump, load

import tamrig.engine.session as session
from simulators.world import World
from tamrig.engine.engine import ScanEngine
from tamrig.rig import Rig

#: 3 delays + the reference delay, 2 fluences, 2 probe wavelengths, 1 sweep: 16 points.
TINY_PLAN = """\
name = "tiny"
nesting = ["wavelength", "fluence", "sweep"]

[sample]
name = "reliability test film"
cross_section_cm2 = 9.6e-16
pump_sigma_nm = 141.0

[delays]
reference_fs = 300.0

[[delays.segments]]
kind = "list"
values = [-200, 0, 500]

[fluence]
unit = "n_abs"
values = [0.09, 0.18]

[probe]
wavelengths_nm = [905.0, 690.0]

[sweeps]
count = {sweeps}

[acquisition]
scheme = "chopper"
pairs_per_point = 4
block_frames = 8
dark_frames = 4
"""


def write_plan(folder: Path, sweeps: int = 1, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(TINY_PLAN.format(sweeps=sweeps))
    return path


def write_rig(folder: Path, faults: list[dict[str, Any]] = (), name: str = "rig.toml") -> Path:  # type: ignore[assignment]
    """The simulated rig (time scale 0) with ``[[simulation.faults]]`` tables."""
    data = load(SIM_RIG)
    data["simulation"]["time_scale"] = 0.0
    if faults:
        data["simulation"]["faults"] = list(faults)
    path = folder / name
    path.write_text(dump(data))
    return path


@dataclass
class Observed:
    """What happened inside an in-process CLI scan."""

    rigs: list[Rig] = field(default_factory=list)
    backoffs: list[float] = field(default_factory=list)
    calls_at_first_point: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def world(self) -> World:
        return World.of(self.rigs[-1])

    def pump_truly_open(self) -> bool:
        return bool(self.rigs[-1].devices["pump_shutter"].true_open())  # type: ignore[attr-defined]


@contextmanager
def observed_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    """Keep the rigs the CLI builds; record back-off waits instead of sleeping them."""
    seen = Observed()
    real_connect = session._connect

    def spy(rig: Any) -> tuple[Rig, bool]:
        built, owns = real_connect(rig)
        seen.rigs.append(built)
        return built, owns

    def backoff(self: ScanEngine, seconds: float) -> None:
        seen.backoffs.append(seconds)

    with monkeypatch.context() as m:
        m.setattr(session, "_connect", spy)
        m.setattr(ScanEngine, "_backoff", backoff)
        yield seen


def call_counts(world: World, operations: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    return {(d, op): world.faults.calls(d, op) for d, op in operations}
