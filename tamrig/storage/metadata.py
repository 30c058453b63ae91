"""What a scan file says about itself: the rig, the plan, the devices, the sample.

Kept as one dataclass so the engine fills it once and storage can write it, read it back
and restore it on resume without knowing where each piece came from.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class ScanMetadata:
    """Everything known about a scan before its first point.

    ``position_names`` lists the keys of ``PointRecord.positions`` that get a dataset of
    their own (HDF5 cannot create datasets once readers may be attached); other keys are
    kept in the per-point JSON column.
    """

    program_version: str
    rig_path: str
    rig_text: str
    rig: dict[str, Any]
    plan: dict[str, Any]
    devices: dict[str, Any]
    image_shape: tuple[int, int]
    pixel_size_nm: float
    n_points_planned: int
    calibration: dict[str, Any] | None = None
    sample: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    position_names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["image_shape"] = list(self.image_shape)
        data["position_names"] = list(self.position_names)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanMetadata:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        shape = values["image_shape"]
        values["image_shape"] = (int(shape[0]), int(shape[1]))
        values["position_names"] = tuple(values.get("position_names", ()))
        return cls(**values)


def _plain(value: Any) -> Any:
    """JSON fallback for the odd types device snapshots contain (numpy, paths, sets)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def to_json(value: Any) -> str:
    """Stable JSON text (sorted keys; NaN kept as the JSON extension Python reads back)."""
    return json.dumps(value, default=_plain, sort_keys=True, allow_nan=True)


def from_json(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text) if text else None


def finite_or_nan(value: float | None) -> float:
    """Missing numbers are stored as NaN, never as a plausible-looking zero."""
    if value is None:
        return math.nan
    return float(value)
