"""Scan axes: delay segments (linear, log, list; fs/ps/ns), fluence values, probe wavelengths.

Each axis is a small pydantic model that validates itself; nothing here touches a device.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

DelayUnit = Literal["fs", "ps", "ns"]
UNIT_FS: dict[str, float] = {"fs": 1.0, "ps": 1e3, "ns": 1e6}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinearSegment(_Strict):
    """``start``, ``start + step``, … up to and including ``stop`` (or ``count`` points)."""

    kind: Literal["linear"] = "linear"
    start: float
    stop: float
    step: float | None = Field(None, gt=0)
    count: int | None = Field(None, ge=2)
    unit: DelayUnit = "fs"

    @model_validator(mode="after")
    def _check(self) -> LinearSegment:
        if self.stop <= self.start:
            raise ValueError(f"stop ({self.stop}) greater than start ({self.start})")
        if (self.step is None) == (self.count is None):
            raise ValueError("exactly one of 'step' or 'count'")
        return self

    def values_fs(self) -> list[float]:
        scale = UNIT_FS[self.unit]
        if self.count is not None:
            return [float(v) * scale for v in np.linspace(self.start, self.stop, self.count)]
        assert self.step is not None
        n = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [(self.start + self.step * k) * scale for k in range(n)]


class LogSegment(_Strict):
    """``count`` log-spaced delays from ``start`` to ``stop`` inclusive (both > 0)."""

    kind: Literal["log"] = "log"
    start: float = Field(gt=0)
    stop: float = Field(gt=0)
    count: int = Field(ge=2)
    unit: DelayUnit = "fs"
    include_start: bool = True

    @model_validator(mode="after")
    def _check(self) -> LogSegment:
        if self.stop <= self.start:
            raise ValueError(f"stop ({self.stop}) greater than start ({self.start})")
        return self

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
    values: list[float] = Field(min_length=1)
    unit: DelayUnit = "fs"

    def values_fs(self) -> list[float]:
        return [float(v) * UNIT_FS[self.unit] for v in self.values]


Segment = Annotated[LinearSegment | LogSegment | ListSegment, Field(discriminator="kind")]


def default_grid_fs() -> list[float]:
    """The 112-point delay grid of physics.md.

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
    segments: list[Segment] = Field(default_factory=list)
    reference_fs: float | None = Field(
        None, description="delay re-measured at the start of every sweep (drift check)"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> DelayAxis:
        if self.preset is None and not self.segments:
            raise ValueError("at least one delay: a 'preset' or one of 'segments'")
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
    values: list[float] = Field(min_length=1)

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

    wavelengths_nm: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _positive(self) -> ProbeAxis:
        if any(w <= 0 for w in self.wavelengths_nm):
            raise ValueError("positive wavelengths in nm")
        return self
