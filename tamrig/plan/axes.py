"""Scan axes: delay segments (linear, log, list; fs/ps/ns), fluence values, probe wavelengths.

Each axis is a small pydantic model that validates itself; nothing here touches a device.
Sizes are bounded where they are declared and a segment's point count is worked out by
arithmetic before any array is made, so no plan can ask for more memory than a scan could
ever fill (a ``step`` of 1e-300 is refused, not allocated).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

DelayUnit = Literal["fs", "ps", "ns"]
UNIT_FS: dict[str, float] = {"fs": 1.0, "ps": 1e3, "ns": 1e6}

#: Delays one segment, and the whole delay axis, may hold (a scan visits each many times).
MAX_SEGMENT_DELAYS = 100_000
MAX_DELAYS = 100_000
#: |delay| bound: 1 µs is 150 m of double-pass delay line, far past any stage.
MAX_DELAY_FS = 1e9
MAX_FLUENCES = 1000
MAX_WAVELENGTHS = 100
MAX_WAVELENGTH_NM = 1e5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_delay_range(values: list[float], unit: str) -> None:
    bound = MAX_DELAY_FS / UNIT_FS[unit]
    worst = max((abs(v) for v in values), default=0.0)
    if worst > bound:
        raise ValueError(f"delays within ±{bound:g} {unit} (±1 µs; got {worst:g})")


class LinearSegment(_Strict):
    """``start``, ``start + step``, … up to and including ``stop`` (or ``count`` points)."""

    kind: Literal["linear"] = "linear"
    start: float
    stop: float
    step: float | None = Field(None, gt=0)
    count: int | None = Field(None, ge=2, le=MAX_SEGMENT_DELAYS)
    unit: DelayUnit = "fs"

    @model_validator(mode="after")
    def _check(self) -> LinearSegment:
        if self.stop <= self.start:
            raise ValueError(f"stop ({self.stop}) greater than start ({self.start})")
        if (self.step is None) == (self.count is None):
            raise ValueError("exactly one of 'step' or 'count'")
        _check_delay_range([self.start, self.stop], self.unit)
        n = self.n_delays()
        if n > MAX_SEGMENT_DELAYS:
            raise ValueError(
                f"at most {MAX_SEGMENT_DELAYS} delays per segment (this one has "
                f"{n:.4g}; a larger step or a log segment)"
            )
        return self

    def n_delays(self) -> float:
        """How many delays the segment holds, by arithmetic (inf for a vanishing step)."""
        if self.count is not None:
            return self.count
        assert self.step is not None
        span = (self.stop - self.start) / self.step
        return span if not np.isfinite(span) or span > 2**62 else math.floor(span + 1e-9) + 1

    def values_fs(self) -> list[float]:
        scale = UNIT_FS[self.unit]
        if self.count is not None:
            return [float(v) * scale for v in np.linspace(self.start, self.stop, self.count)]
        assert self.step is not None
        n = int(self.n_delays())
        return [(self.start + self.step * k) * scale for k in range(n)]


class LogSegment(_Strict):
    """``count`` log-spaced delays from ``start`` to ``stop`` inclusive (both > 0)."""

    kind: Literal["log"] = "log"
    start: float = Field(gt=0)
    stop: float = Field(gt=0)
    count: int = Field(ge=2, le=MAX_SEGMENT_DELAYS)
    unit: DelayUnit = "fs"
    include_start: bool = True

    @model_validator(mode="after")
    def _check(self) -> LogSegment:
        if self.stop <= self.start:
            raise ValueError(f"stop ({self.stop}) greater than start ({self.start})")
        _check_delay_range([self.start, self.stop], self.unit)
        return self

    def n_delays(self) -> float:
        return self.count

    def values_fs(self) -> list[float]:
        scale = UNIT_FS[self.unit]
        if self.include_start:
            values = np.geomspace(self.start, self.stop, self.count)
        else:
            values = np.geomspace(self.start, self.stop, self.count + 1)[1:]
        return [float(v) * scale for v in values]


class ListSegment(_Strict):
    """Explicit delays."""

    kind: Literal["list"] = "list"
    values: list[float] = Field(min_length=1, max_length=MAX_SEGMENT_DELAYS)
    unit: DelayUnit = "fs"

    @model_validator(mode="after")
    def _check(self) -> ListSegment:
        _check_delay_range(self.values, self.unit)
        return self

    def n_delays(self) -> float:
        return len(self.values)

    def values_fs(self) -> list[float]:
        return [float(v) * UNIT_FS[self.unit] for v in self.values]


Segment = Annotated[LinearSegment | LogSegment | ListSegment, Field(discriminator="kind")]


def default_grid_fs() -> list[float]:
    """The default 112-point delay grid (``preset = "default"``).

    4 points from −1 ps (200 fs apart), 20 fs steps −200…980 fs, 0.5 ps steps 1.5…10 ps,
    30 log-spaced points after 10 ps up to 2 ns.
    """
    segments: list[LinearSegment | LogSegment] = [
        LinearSegment(start=-1000, stop=-400, step=200),
        LinearSegment(start=-200, stop=980, step=20),
        LinearSegment(start=1.5, stop=10, step=0.5, unit="ps"),
        LogSegment(start=10, stop=2000, count=30, unit="ps", include_start=False),
    ]
    return [v for s in segments for v in s.values_fs()]


PRESETS = {"default": default_grid_fs}


class DelayAxis(_Strict):
    """``[delays]``: an optional preset plus segments; merged, sorted, duplicates dropped."""

    preset: Literal["default"] | None = None
    segments: list[Segment] = Field(default_factory=list, max_length=1000)
    reference_fs: float | None = Field(
        None,
        ge=-MAX_DELAY_FS,
        le=MAX_DELAY_FS,
        description="delay re-measured at the start of every sweep (drift check)",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> DelayAxis:
        if self.preset is None and not self.segments:
            raise ValueError("at least one delay: a 'preset' or one of 'segments'")
        total = sum(seg.n_delays() for seg in self.segments)
        if total > MAX_DELAYS:
            raise ValueError(f"at most {MAX_DELAYS} delays in all segments together")
        return self

    def sources(self) -> list[tuple[str, list[float]]]:
        """(plan field, delays in fs) for each part, for messages that name the field."""
        parts: list[tuple[str, list[float]]] = []
        if self.preset is not None:
            parts.append(("delays.preset", PRESETS[self.preset]()))
        for i, seg in enumerate(self.segments):
            parts.append((f"delays.segments[{i}]", seg.values_fs()))
        if self.reference_fs is not None:
            parts.append(("delays.reference_fs", [self.reference_fs]))
        return parts

    def values_fs(self) -> list[float]:
        """The delay grid in fs: sorted, duplicates (closer than 1e-6 fs) removed."""
        merged = sorted(
            v for field, vs in self.sources() if field != "delays.reference_fs" for v in vs
        )
        grid: list[float] = []
        for v in merged:
            if not grid or v - grid[-1] > 1e-6:
                grid.append(v)
        return grid


FluenceUnit = Literal["uJ/cm2", "n_abs", "setting"]


class FluenceAxis(_Strict):
    """``[fluence]``: peak fluences (µJ/cm²), ⟨N_abs⟩ values, or raw attenuator settings."""

    unit: FluenceUnit
    values: list[float] = Field(min_length=1, max_length=MAX_FLUENCES)

    @model_validator(mode="after")
    def _positive(self) -> FluenceAxis:
        if self.unit != "setting" and any(v <= 0 for v in self.values):
            raise ValueError(f"positive values for unit {self.unit!r}")
        return self

    def label(self, value: float) -> str:
        return {
            "uJ/cm2": f"F={value:g}uJ/cm2",
            "n_abs": f"N={value:g}",
            "setting": f"att={value:g}",
        }[self.unit]


class ProbeAxis(_Strict):
    """``[probe]``: probe wavelengths (each must be available on the rig's selector)."""

    wavelengths_nm: list[float] = Field(min_length=1, max_length=MAX_WAVELENGTHS)

    @model_validator(mode="after")
    def _positive(self) -> ProbeAxis:
        if any(not 0 < w <= MAX_WAVELENGTH_NM for w in self.wavelengths_nm):
            raise ValueError(f"positive wavelengths in nm, at most {MAX_WAVELENGTH_NM:g}")
        return self
