"""The calibration sweep: step the attenuator, read the power meter, fit the law.

Where the meter sits decides the pump shutter: by default (rig setting
``power_meter_behind_shutter = false``) the meter is on a pick-off after the attenuator and
before the pump shutter, as in the simulated rig, so the shutter stays closed and no pump
light reaches the sample during the sweep. A rig whose meter sits behind the shutter sets
that flag; the sweep then opens the pump shutter (nothing else runs, the meter blocks the
beam) and closes it again on every way out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from tamrig.calibration.fit import fit_hwp, noise_model
from tamrig.calibration.laws import (
    BRANCH_DEG,
    PERIOD_DEG,
    HwpLaw,
    TableEntry,
    TableLaw,
    choose_branch,
)
from tamrig.calibration.model import FluenceCalibration, SweepPoint, VerificationPoint
from tamrig.devices import Attenuator, PowerMeter
from tamrig.errors import ConfigError, DeviceFault, InputError
from tamrig.rig import Rig

log = logging.getLogger(__name__)

#: progress(done, total, setting, power_w)
Progress = Callable[[int, int, float, float], None]

MIN_CONTRAST = 0.5  # (P_max − P_min)/P_max below this: the meter does not see the attenuator
MIN_SIGNIFICANCE = 10.0  # P_max must exceed this many standard errors
VERIFY_WARN = 0.02  # a read-back off its target by more than this is logged


@dataclass(frozen=True)
class SweepOptions:
    points: int = 25  # fine sweep along the monotonic branch
    coarse_points: int = 12  # first pass over one full 90° period to locate θ0
    repeats: int = 3  # readings per setting (their scatter feeds the noise model)
    averaging: int | None = None  # meter averaging; None keeps the meter's setting
    margin_deg: float = 2.0  # keep clear of the flat ends of the branch
    sweep_deg: tuple[float, float] | None = None  # explicit fine-sweep range; skips coarse
    verify_points: int = 3  # powers set through the fitted inverse and read back

    def check(self) -> None:
        if self.points < 4:
            raise InputError(f"points = {self.points}", field="points", expected="at least 4")
        if self.sweep_deg is None and self.coarse_points < 6:
            raise InputError(
                f"coarse_points = {self.coarse_points}",
                field="coarse_points",
                expected="at least 6 to locate θ0 (or an explicit sweep range)",
            )
        if self.verify_points < 0:
            raise InputError(
                f"verify_points = {self.verify_points}", field="verify_points", expected="≥ 0"
            )
        if self.repeats < 1:
            raise InputError(f"repeats = {self.repeats}", field="repeats", expected="at least 1")
        if self.averaging is not None and self.averaging < 1:
            raise InputError(
                f"averaging = {self.averaging}", field="averaging", expected="at least 1"
            )
        if not 0 <= self.margin_deg < BRANCH_DEG / 2:
            raise InputError(
                f"margin = {self.margin_deg} deg", field="margin_deg", expected="0 to 22.5 deg"
            )


def require_devices(rig: Rig) -> tuple[Attenuator, PowerMeter]:
    """The rig's attenuator and power meter, or a ConfigError naming the missing role."""
    for role in ("attenuator", "power_meter"):
        if rig.devices.get(role) is None:
            raise ConfigError(
                f"a fluence calibration needs a {role.replace('_', ' ')}, and this rig has none",
                file=rig.loaded.path,
                field=f"devices.{role}",
                expected=f"a [devices.{role}] table",
            )
    attenuator, meter = rig.attenuator, rig.power_meter
    assert attenuator is not None and meter is not None
    return attenuator, meter


def calibrate_fluence(
    rig: Rig,
    options: SweepOptions | None = None,
    *,
    pump_sigma_nm: float | None = None,
    cross_section_cm2: float | None = None,
    progress: Progress | None = None,
) -> FluenceCalibration:
    """Sweep the attenuator against the power meter and fit its law (rig connected)."""
    options = options or SweepOptions()
    options.check()
    attenuator, meter = require_devices(rig)
    behind_shutter = rig.settings.power_meter_behind_shutter
    rig.close_pump()
    try:
        meter.wavelength_nm = rig.settings.pump_wavelength_nm
        if options.averaging is not None:
            meter.averaging = options.averaging
        if behind_shutter:
            meter.zero()  # dark zero while the closed pump shutter blocks the beam
            log.warning("power meter behind the pump shutter: opening it for the calibration")
            rig.pump_shutter.open()
        law: HwpLaw | TableLaw
        chi2: float | None
        rms: float | None
        if attenuator.kind == "discrete":
            law, points, chi2, rms = _sweep_table(attenuator, meter, options, progress)
        else:
            law, points, chi2, rms = _sweep_hwp(attenuator, meter, options, progress)
        verification = _verify(law, attenuator, meter, options)
    finally:
        rig.close_pump()
    # leave the pump at its weakest: the safe end of the attenuator
    attenuator.set_setting(law.lowest_power_setting())
    settings = rig.settings
    calibration = FluenceCalibration(
        rig_name=settings.name,
        rig_file=rig.loaded.path,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        attenuator_identity=attenuator.identify(),
        power_meter_identity=meter.identify(),
        pump_wavelength_nm=settings.pump_wavelength_nm,
        meter_wavelength_nm=meter.wavelength_nm,
        meter_averaging=meter.averaging,
        rep_rate_hz=settings.rep_rate_hz,
        power_behind_chopper=settings.power_behind_chopper,
        pump_shutter_open=behind_shutter,
        meter_zeroed=behind_shutter,
        max_fluence_uj_cm2=settings.max_fluence_uj_cm2,
        pump_sigma_nm=pump_sigma_nm if pump_sigma_nm is not None else settings.pump_sigma_nm,
        cross_section_cm2=cross_section_cm2,
        law=law,
        points=points,
        verification=verification,
        reduced_chi2=chi2,
        rms_residual_w=rms,
    )
    return calibration


# -- measuring ---------------------------------------------------------------------------------
@dataclass
class _Readings:
    settings: list[float]
    mean: list[float]
    sd: list[float]
    n: list[int]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.settings, dtype=float),
            np.asarray(self.mean, dtype=float),
            np.asarray(self.sd, dtype=float),
            np.asarray(self.n, dtype=int),
        )


def _measure(
    attenuator: Attenuator,
    meter: PowerMeter,
    settings: list[float],
    repeats: int,
    into: _Readings,
    progress: Progress | None,
    offset: int,
    total: int,
) -> None:
    for i, setting in enumerate(settings):
        reached = attenuator.set_setting(setting)
        values = np.array([meter.read_power_w() for _ in range(repeats)])
        if not np.all(np.isfinite(values)):
            raise DeviceFault(meter.name, f"non-finite power reading {values.tolist()}")
        into.settings.append(float(reached))
        into.mean.append(float(values.mean()))
        into.sd.append(float(values.std(ddof=1)) if repeats > 1 else 0.0)
        into.n.append(repeats)
        if progress is not None:
            progress(offset + i + 1, total, float(reached), float(values.mean()))


def _sigma_of_means(readings: _Readings) -> np.ndarray | None:
    _, mean, sd, n = readings.arrays()
    return noise_model(mean, sd, n)


def _check_contrast(
    meter: PowerMeter, attenuator: Attenuator, p_min: float, p_max: float, p_max_err: float
) -> None:
    """Refuse a sweep in which the meter does not see the attenuated pump."""
    if p_max <= MIN_SIGNIFICANCE * p_max_err or p_max <= 0:
        raise DeviceFault(
            meter.name,
            f"reads no pump power above its noise (P_max {p_max:.3g} ± {p_max_err:.2g} W): "
            "is the meter in the beam and the laser on?",
        )
    if (p_max - p_min) / p_max < MIN_CONTRAST:
        raise DeviceFault(
            attenuator.name,
            f"the measured power hardly changes with the setting (P_min {p_min:.3g} W, "
            f"P_max {p_max:.3g} W): is the polariser in place and the meter after it?",
        )


def _verify(
    law: HwpLaw | TableLaw, attenuator: Attenuator, meter: PowerMeter, options: SweepOptions
) -> list[VerificationPoint]:
    """Close the loop: set powers across the usable range through the inverse, read them."""
    if options.verify_points == 0 or not isinstance(law, HwpLaw):
        return []
    lo, hi = law.power_range()
    targets = np.geomspace(lo * 2.0, hi * 0.9, options.verify_points)
    result = []
    for target in targets:
        setting = attenuator.set_setting(law.setting_for_power(float(target)))
        values = np.array([meter.read_power_w() for _ in range(options.repeats)])
        err = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else 0.0
        point = VerificationPoint(
            target_power_w=float(target),
            setting=float(setting),
            measured_power_w=float(values.mean()),
            measured_err_w=err,
        )
        if abs(point.deviation) > VERIFY_WARN:
            log.warning(
                "calibration check: set %.4g W at %.3f, read %.4g W (%+.1f %%)",
                target,
                setting,
                point.measured_power_w,
                100 * point.deviation,
            )
        result.append(point)
    return result


# -- half-wave plate ---------------------------------------------------------------------------
def _sweep_hwp(
    attenuator: Attenuator,
    meter: PowerMeter,
    options: SweepOptions,
    progress: Progress | None,
) -> tuple[HwpLaw, list[SweepPoint], float | None, float]:
    lo, hi = attenuator.setting_range
    readings = _Readings([], [], [], [])
    if options.sweep_deg is not None:
        a, b = sorted(options.sweep_deg)
        if a < lo or b > hi or b - a <= 0:
            raise InputError(
                f"sweep range [{a}, {b}] deg",
                field="sweep_deg",
                expected=f"an interval inside the attenuator's range [{lo}, {hi}] deg",
            )
        fine = np.linspace(a, b, options.points).tolist()
        _measure(attenuator, meter, fine, options.repeats, readings, progress, 0, len(fine))
        near = 0.5 * (a + b)
    else:
        coarse_hi = min(lo + PERIOD_DEG, hi)
        coarse = np.linspace(lo, coarse_hi, options.coarse_points, endpoint=False).tolist()
        total = len(coarse) + options.points
        _measure(attenuator, meter, coarse, options.repeats, readings, progress, 0, total)
        theta, power, _, _ = readings.arrays()
        first = fit_hwp(theta, power, _sigma_of_means(readings))
        _check_contrast(meter, attenuator, first.p_min_w, first.p_max_w, float(first.errors[1]))
        start, end = choose_branch(first.theta0_deg, (lo, hi), options.margin_deg, lo)
        d = 1.0 if end > start else -1.0
        fine = np.linspace(
            start + d * options.margin_deg, end - d * options.margin_deg, options.points
        ).tolist()
        _measure(attenuator, meter, fine, options.repeats, readings, progress, len(coarse), total)
        near = 0.5 * (start + end)
    theta, power, _, n = readings.arrays()
    sigma = _sigma_of_means(readings)
    fit = fit_hwp(theta, power, sigma)
    _check_contrast(meter, attenuator, fit.p_min_w, fit.p_max_w, float(fit.errors[1]))
    start, end = choose_branch(fit.theta0_deg, (lo, hi), options.margin_deg, near)
    err = fit.errors
    law = HwpLaw(
        theta0_deg=fit.theta0_deg,
        theta0_err_deg=float(err[2]),
        p_min_w=fit.p_min_w,
        p_min_err_w=float(err[0]),
        p_max_w=fit.p_max_w,
        p_max_err_w=float(err[1]),
        covariance=fit.covariance.tolist(),
        branch_start_deg=start,
        branch_end_deg=end,
        margin_deg=options.margin_deg,
    )
    residual = power - fit.model_w
    if sigma is None:  # no scatter model (single readings): the residual scatter stands in
        sem = np.full_like(power, np.sqrt(np.sum(residual**2) / fit.dof))
        chi2: float | None = None
    else:
        sem, chi2 = sigma, fit.reduced_chi2
    points = [
        SweepPoint(
            setting=float(t),
            power_w=float(p),
            power_err_w=float(s),
            n_readings=int(k),
            model_w=float(m),
        )
        for t, p, s, k, m in zip(theta, power, sem, n, fit.model_w, strict=True)
    ]
    rms = float(np.sqrt(np.mean(residual**2)))
    return law, points, chi2, rms


# -- discrete ND wheel ---------------------------------------------------------------------------
def _sweep_table(
    attenuator: Attenuator,
    meter: PowerMeter,
    options: SweepOptions,
    progress: Progress | None,
) -> tuple[TableLaw, list[SweepPoint], float | None, float | None]:
    lo, hi = attenuator.setting_range
    slots = [float(s) for s in range(int(lo), int(hi) + 1)]
    readings = _Readings([], [], [], [])
    _measure(attenuator, meter, slots, options.repeats, readings, progress, 0, len(slots))
    setting, power, sd, n = readings.arrays()
    sem = sd / np.sqrt(n)
    top = int(np.argmax(power))
    _check_contrast(meter, attenuator, float(power.min()), float(power[top]), float(sem[top]))
    entries = [
        TableEntry(setting=int(s), power_w=float(p), power_err_w=float(e))
        for s, p, e in zip(setting, power, sem, strict=True)
    ]
    points = [
        SweepPoint(
            setting=float(s),
            power_w=float(p),
            power_err_w=float(e),
            n_readings=int(k),
            model_w=float(p),
        )
        for s, p, e, k in zip(setting, power, sem, n, strict=True)
    ]
    return TableLaw(entries=entries), points, None, None
