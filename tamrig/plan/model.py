"""The scan plan: a validated, serialisable description of one measurement (TOML on disk).

A plan names what to measure, never how a device does it. Iterating over a plan yields its
points in execution order (:mod:`tamrig.plan.points`); checking it against a rig is a
separate step, :func:`tamrig.plan.preflight.validate_for`, which this module never imports
(pre-flight talks to devices, a plan does not).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from tamrig.errors import PlanError
from tamrig.plan.axes import DelayAxis, FluenceAxis, ProbeAxis
from tamrig.plan.drift import DriftChecks
from tamrig.plan.points import ScanPoint, scan_points
from tamrig.validation import load_toml, validate_model

OuterAxis = Literal["sweep", "wavelength", "fluence"]
#: Points one scan may hold: at a second each that is over two days; each point is a row
#: of every dataset and an entry of the engine's point list.
MAX_POINTS = 200_000
MAX_SWEEPS = 100_000
DEFAULT_NESTING: tuple[OuterAxis, ...] = ("wavelength", "fluence", "sweep")


class Sample(BaseModel):
    """``[sample]``: what is measured, and what turns fluence into ⟨N_abs⟩.

    The absorption cross-section at the pump is given directly (``cross_section_cm2``) or,
    for PbS dots, from their size (``pbs_diameter_nm`` / ``pbs_exciton_nm``, see
    :class:`tamrig.calibration.SampleAbsorption`). ``pump_sigma_nm`` is the pump spot σ when
    the rig file has none (e.g. σ₀ from an earlier scan). Free notes go in ``[sample.metadata]``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = ""
    description: str = ""
    # Bounds: physical ranges with wide margins, so no conversion under- or overflows.
    cross_section_cm2: float | None = Field(None, ge=1e-30, le=1e-6)
    pbs_diameter_nm: float | None = Field(None, ge=0.5, le=1000)
    pbs_exciton_nm: float | None = Field(None, ge=100, le=1e5)
    absorbance_ratio: float | None = Field(None, ge=1e-6, le=1e6)
    pump_sigma_nm: float | None = Field(None, ge=1, le=1e7, description="1 nm to 1 cm")
    expected_dtt: float | None = Field(
        None, gt=0, le=1.0, description="peak |ΔT/T| expected at N_abs 0.045 (∝ N_abs), for --check"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    def absorption_fields(self) -> dict[str, float]:
        """The keys of :class:`tamrig.calibration.SampleAbsorption` that are set."""
        names = ("cross_section_cm2", "pbs_diameter_nm", "pbs_exciton_nm", "absorbance_ratio")
        return {n: float(getattr(self, n)) for n in names if getattr(self, n) is not None}


class Sweeps(BaseModel):
    """``[sweeps]``: repeats of the delay axis and the order each one visits it in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(1, ge=1, le=MAX_SWEEPS)
    order: Literal["forward", "alternating", "random"] = "forward"
    seed: int = Field(0, ge=0, lt=2**63, description="seed of the 'random' order (reproducible)")


class Acquisition(BaseModel):
    """``[acquisition]``: how each point's ΔT/T is measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["chopper", "shutter"] = "chopper"
    pairs_per_point: int = Field(500, ge=2, le=10**7, description="pump-on/pump-off frame pairs")
    block_frames: int = Field(64, ge=2, le=100_000, description="frames read per camera call")
    dark_frames: int = Field(200, ge=0, le=10**7, description="dark frames at the start (0 = none)")
    normalise: bool = Field(True, description="per-frame probe normalisation")
    settle_frames: int = Field(
        1, ge=0, le=10_000, description="shutter scheme: frames dropped per switch"
    )
    measure_power: bool = Field(True, description="read the pump power meter at every point")
    record_raw_frames: bool = Field(False, description="store every raw frame (large!)")


class ScanPlan(BaseModel):
    """One scan: delay × fluence × probe wavelength, repeated in sweeps.

    The delay axis is always innermost (a sweep is one pass over the delay grid);
    ``nesting`` orders the other three axes, outermost first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("scan", min_length=1, max_length=256)
    description: str = Field("", max_length=100_000)
    sample: Sample = Field(default_factory=Sample)
    delays: DelayAxis
    fluence: FluenceAxis | None = Field(None, description="None: leave the attenuator alone")
    probe: ProbeAxis | None = Field(None, description="None: leave the selector alone")
    sweeps: Sweeps = Field(default_factory=Sweeps)
    acquisition: Acquisition = Field(default_factory=Acquisition)
    drift: DriftChecks = Field(default_factory=DriftChecks)
    nesting: list[OuterAxis] = Field(default_factory=lambda: list(DEFAULT_NESTING))

    _source: str | None = PrivateAttr(None)

    @field_validator("nesting")
    @classmethod
    def _permutation(cls, value: list[OuterAxis]) -> list[OuterAxis]:
        if sorted(value) != sorted(DEFAULT_NESTING):
            raise ValueError(
                "each of 'sweep', 'wavelength', 'fluence' once (outermost first; "
                "the delay axis is always innermost)"
            )
        return value

    def point_factors(self) -> dict[str, int]:
        """The plan field behind each factor of the point count, and its size."""
        return {
            "delays": self.points_per_sweep(),
            "sweeps.count": self.sweeps.count,
            "fluence.values": self.n_fluences(),
            "probe.wavelengths_nm": self.n_wavelengths(),
        }

    def largest_factor(self) -> str:
        """The field to name when the scan as a whole is too big: its largest factor."""
        per_point = {"acquisition.pairs_per_point": 2 * self.acquisition.pairs_per_point}
        factors = {**self.point_factors(), **per_point}
        return max(factors, key=lambda k: factors[k])

    def check_size(self) -> None:
        """At most MAX_POINTS points; a PlanError naming the largest factor otherwise."""
        factors = self.point_factors()
        total = math.prod(factors.values())
        if total > MAX_POINTS:
            largest = max(factors, key=lambda k: factors[k])
            product = " x ".join(f"{n} {k.split('.')[0]}" for k, n in factors.items())
            raise self.error(
                largest,
                f"the plan has {total} points ({product})",
                f"at most {MAX_POINTS} points in one scan",
            )

    @property
    def source(self) -> str | None:
        """The file the plan came from (for error messages), if any."""
        return self._source

    def with_source(self, source: str | Path | None) -> ScanPlan:
        self._source = None if source is None else str(source)
        return self

    def error(self, field: str, message: str, expected: str | None = None) -> PlanError:
        """A PlanError naming this plan's file and ``field``."""
        return PlanError(message, file=self._source, field=field, expected=expected)

    def __iter__(self) -> Iterator[ScanPoint]:  # type: ignore[override]
        """The plan's points in execution order (as useq's MDASequence yields its events).

        Replaces pydantic's iteration over (field, value) pairs, which nothing here uses.
        """
        return iter(scan_points(self))

    # -- sizes ----------------------------------------------------------------------------
    def delays_fs(self) -> list[float]:
        return self.delays.values_fs()

    def n_wavelengths(self) -> int:
        return 1 if self.probe is None else len(self.probe.wavelengths_nm)

    def n_fluences(self) -> int:
        return 1 if self.fluence is None else len(self.fluence.values)

    def points_per_sweep(self) -> int:
        """Points of one sweep of one (wavelength, fluence) series, reference included."""
        return len(self.delays_fs()) + (1 if self.delays.reference_fs is not None else 0)

    def n_points(self) -> int:
        return (
            self.sweeps.count * self.n_wavelengths() * self.n_fluences() * self.points_per_sweep()
        )


def plan_from_dict(data: Any, *, source: str | Path | None = None) -> ScanPlan:
    """Validate a plan mapping (a parsed TOML file or a stored plan); errors name the field."""
    plan = validate_model(ScanPlan, data, file=source, error=PlanError).with_source(source)
    plan.check_size()
    return plan


def load_plan(path: str | Path) -> ScanPlan:
    """Load and validate a plan file; a PlanError names the file and the field."""
    return plan_from_dict(load_toml(path, error=PlanError), source=path)
