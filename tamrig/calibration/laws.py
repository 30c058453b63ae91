"""Attenuator laws: measured power as a function of the attenuator setting, and back.

Powers are what the power meter reads (W). Converting them to pulse energy and fluence is
:class:`~tamrig.calibration.model.FluenceCalibration`'s job, so the chopper factor lives in
exactly one place.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tamrig.errors import InputError

PERIOD_DEG = 90.0  # cos²(2θ) repeats every 90° of half-wave-plate rotation
BRANCH_DEG = 45.0  # one monotonic branch, from maximum to minimum transmission


class HwpLaw(BaseModel):
    """Half-wave plate before a polariser: P(θ) = P_min + (P_max − P_min)·cos²(2(θ − θ0)).

    P_min > 0 is the finite extinction. Only one monotonic branch is used for setting powers,
    from ``branch_start_deg`` (maximum power, θ0 + k·90°) towards ``branch_end_deg``
    (minimum, 45° further in the direction of travel), trimmed by ``margin_deg`` at both
    flat ends where dP/dθ → 0 makes the inverse ill-conditioned.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["hwp"] = "hwp"
    theta0_deg: float
    theta0_err_deg: float
    p_min_w: float
    p_min_err_w: float
    p_max_w: float
    p_max_err_w: float
    covariance: list[list[float]] = Field(
        description="covariance of (p_min_w, p_max_w, theta0_deg)"
    )
    branch_start_deg: float
    branch_end_deg: float
    margin_deg: float = Field(2.0, ge=0, lt=BRANCH_DEG / 2)

    # -- derived -----------------------------------------------------------------------------
    @property
    def extinction(self) -> float:
        """P_min / P_max."""
        return self.p_min_w / self.p_max_w

    @property
    def extinction_err(self) -> float:
        """Standard error of the extinction, propagated with the covariance."""
        cov = np.asarray(self.covariance)
        grad = np.array([1.0 / self.p_max_w, -self.p_min_w / self.p_max_w**2, 0.0])
        return float(math.sqrt(max(float(grad @ cov @ grad), 0.0)))

    @property
    def direction(self) -> float:
        return 1.0 if self.branch_end_deg > self.branch_start_deg else -1.0

    def usable_range(self) -> tuple[float, float]:
        """(angle of highest usable power, angle of lowest usable power)."""
        d = self.direction
        return (
            self.branch_start_deg + d * self.margin_deg,
            self.branch_end_deg - d * self.margin_deg,
        )

    def setting_limits(self) -> tuple[float, float]:
        a, b = self.usable_range()
        return (min(a, b), max(a, b))

    def power_range(self) -> tuple[float, float]:
        hi_angle, lo_angle = self.usable_range()
        return self.power(lo_angle), self.power(hi_angle)

    # -- the law -----------------------------------------------------------------------------
    def power(self, setting: float) -> float:
        c = math.cos(2.0 * math.radians(setting - self.theta0_deg))
        return self.p_min_w + (self.p_max_w - self.p_min_w) * c * c

    def setting_for_power(self, power_w: float) -> float:
        """Angle on the monotonic branch that gives ``power_w``."""
        lo, hi = self.power_range()
        if not lo <= power_w <= hi:
            raise InputError(
                f"power {power_w:.4g} W is outside the attenuator's usable range",
                field="fluence",
                expected=f"a meter power within [{lo:.4g}, {hi:.4g}] W",
            )
        x = (power_w - self.p_min_w) / (self.p_max_w - self.p_min_w)
        half_angle = 0.5 * math.degrees(math.acos(math.sqrt(min(max(x, 0.0), 1.0))))
        return self.branch_start_deg + self.direction * half_angle

    def lowest_power_setting(self) -> float:
        return self.usable_range()[1]


def choose_branch(
    theta0_deg: float, setting_range: tuple[float, float], margin_deg: float, near_deg: float
) -> tuple[float, float]:
    """(start, end) of the monotonic branch inside ``setting_range`` closest to ``near_deg``.

    Branches start at a transmission maximum θ0 + k·90° and run 45° either way.
    """
    lo, hi = setting_range
    candidates: list[tuple[float, float, float]] = []
    k_lo = math.floor((lo - theta0_deg - BRANCH_DEG) / PERIOD_DEG) - 1
    k_hi = math.ceil((hi - theta0_deg + BRANCH_DEG) / PERIOD_DEG) + 1
    for k in range(k_lo, k_hi + 1):
        start = theta0_deg + k * PERIOD_DEG
        for direction in (1.0, -1.0):
            end = start + direction * BRANCH_DEG
            a, b = start + direction * margin_deg, end - direction * margin_deg
            if lo <= min(a, b) and max(a, b) <= hi:
                centre = 0.5 * (a + b)
                candidates.append((abs(centre - near_deg), start, end))
    if not candidates:
        raise InputError(
            f"no monotonic 45° branch of the attenuator fits its range [{lo}, {hi}] deg "
            f"(θ0 = {theta0_deg:.2f} deg)",
            field="attenuator.range",
            expected="a rotation range spanning at least 45° plus margins",
        )
    _, start, end = min(candidates)
    return start, end


class TableEntry(BaseModel):
    """One slot of a discrete ND wheel and the power measured through it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    setting: int
    power_w: float
    power_err_w: float


class TableLaw(BaseModel):
    """Discrete attenuator (ND filter wheel): the measured power of every slot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["table"] = "table"
    entries: list[TableEntry] = Field(min_length=1)
    tolerance: float = Field(
        0.1, gt=0, description="relative mismatch allowed between a target and the nearest slot"
    )

    def power(self, setting: float) -> float:
        for entry in self.entries:
            if entry.setting == setting:
                return entry.power_w
        raise InputError(
            f"slot {setting} was not calibrated",
            field="attenuator setting",
            expected=f"one of {[e.setting for e in self.entries]}",
        )

    def power_range(self) -> tuple[float, float]:
        powers = [e.power_w for e in self.entries if e.power_w > 0]
        if not powers:
            return (0.0, 0.0)
        return min(powers), max(powers)

    def setting_limits(self) -> tuple[float, float]:
        slots = [e.setting for e in self.entries]
        return float(min(slots)), float(max(slots))

    def setting_for_power(self, power_w: float) -> float:
        """The slot whose power is nearest (in ratio) to ``power_w``, within the tolerance."""
        usable = [e for e in self.entries if e.power_w > 0]
        if power_w <= 0 or not usable:
            raise InputError(
                f"power {power_w:.4g} W cannot be set with this filter wheel",
                field="fluence",
                expected="a positive power within the wheel's calibrated slots",
            )
        best = min(usable, key=lambda e: abs(math.log(e.power_w / power_w)))
        if abs(best.power_w / power_w - 1.0) > self.tolerance:
            table = ", ".join(f"{e.setting}: {e.power_w:.4g} W" for e in usable)
            raise InputError(
                f"no slot gives {power_w:.4g} W within {self.tolerance:.0%}",
                field="fluence",
                expected=f"a power of one slot ({table})",
            )
        return float(best.setting)

    def lowest_power_setting(self) -> float:
        return float(min(self.entries, key=lambda e: e.power_w).setting)


AttenuatorLaw = Annotated[HwpLaw | TableLaw, Field(discriminator="kind")]
