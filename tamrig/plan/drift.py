"""``[drift]``: how far the reference spot may change over a scan before the operator is warned.

The delay given as ``delays.reference_fs`` is re-measured at the start of every sweep; its
amplitude and centre are followed live (see :mod:`tamrig.analysis.drift`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tamrig.analysis.drift import DriftLimits

_DEFAULT = DriftLimits()


class DriftChecks(BaseModel):
    """Limits on the change of the per-sweep reference spot over the scan."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    max_amplitude_drop: float = Field(
        _DEFAULT.max_amplitude_drop,
        gt=0,
        lt=1,
        description="fractional fall of the reference amplitude that warns of photodamage",
    )
    max_centre_shift_nm: float = Field(
        _DEFAULT.max_centre_shift_nm,
        gt=0,
        description="movement of the reference spot centre (nm) that warns of drift",
    )

    def limits(self) -> DriftLimits:
        return DriftLimits(self.max_amplitude_drop, self.max_centre_shift_nm)
