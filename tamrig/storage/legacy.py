"""Reading files written before the series, reference and fluence columns existed.

Such files kept each point's series, reference flag and fluences in µJ/cm² in the point's
JSON text, and stored the plan's value (µJ/cm², ⟨N_abs⟩ or attenuator setting, whatever the
plan used) in ``/entry/data/fluence``. The reader rebuilds the new columns from the JSON so
an old file analyses like a new one; its fluence column is never taken as µJ/cm².
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tamrig.storage.metadata import from_json

#: Reader keys rebuilt from the per-point JSON, and the JSON key each came from.
_FROM_JSON = {
    "fluence_uj_cm2": "fluence_uj_cm2",
    "fluence_measured_uj_cm2": "fluence_measured_uj_cm2",
    "n_abs_measured": "n_abs_measured",
}


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def columns_from_json(texts: Sequence[Any]) -> dict[str, np.ndarray]:
    """The per-point columns an old file kept in JSON, one entry per text in ``texts``."""
    extras = []
    for text in texts:
        payload = from_json(text) if text else None
        extra = payload.get("extra") if isinstance(payload, dict) else None
        extras.append(extra if isinstance(extra, dict) else {})
    out: dict[str, np.ndarray] = {
        key: np.array([_number(e.get(name)) for e in extras], dtype=np.float64)
        for key, name in _FROM_JSON.items()
    }
    out["series"] = np.array([str(e.get("series", "")) for e in extras], dtype=object)
    out["reference"] = np.array([int(bool(e.get("reference", 0))) for e in extras], np.uint8)
    return out
