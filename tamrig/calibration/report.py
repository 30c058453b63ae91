"""Human-readable tables of a calibration: fit parameters, reachable range, residuals."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from tamrig.calibration.laws import HwpLaw
from tamrig.calibration.model import FluenceCalibration


def parameter_table(calibration: FluenceCalibration) -> Table:
    law = calibration.law
    table = Table(title=f"Attenuator law — {calibration.rig_name} ({calibration.created})")
    for column in ("parameter", "value", "std. error"):
        table.add_column(column, justify="right" if column != "parameter" else "left")
    if isinstance(law, HwpLaw):
        table.add_row("law", "P_min + (P_max − P_min)·cos²(2(θ − θ0))", "")
        table.add_row("θ0 (deg)", f"{law.theta0_deg:.4f}", f"{law.theta0_err_deg:.2g}")
        table.add_row("P_max (W)", f"{law.p_max_w:.5g}", f"{law.p_max_err_w:.2g}")
        table.add_row("P_min (W)", f"{law.p_min_w:.4g}", f"{law.p_min_err_w:.2g}")
        table.add_row(
            "extinction P_min/P_max", f"{law.extinction:.4g}", f"{law.extinction_err:.2g}"
        )
        lo, hi = law.setting_limits()
        table.add_row(
            "monotonic branch (deg)",
            f"{law.branch_start_deg:.2f} → {law.branch_end_deg:.2f}",
            f"used {lo:.2f}…{hi:.2f}",
        )
    else:
        table.add_row("law", f"table of {len(law.entries)} slots", "")
    if calibration.reduced_chi2 is not None:
        table.add_row("reduced χ²", f"{calibration.reduced_chi2:.3g}", "")
    if calibration.rms_residual_w is not None:
        table.add_row("rms residual (W)", f"{calibration.rms_residual_w:.3g}", "")
    table.add_row(
        "meter",
        f"{calibration.meter_wavelength_nm:g} nm, averaging {calibration.meter_averaging}",
        "behind chopper" if calibration.power_behind_chopper else "",
    )
    lo_p, hi_p = law.power_range()
    table.add_row("settable power (W)", f"{lo_p:.4g} … {hi_p:.4g}", "")
    if calibration.pump_sigma_nm is not None:
        lo_f, hi_f = calibration.reachable_fluence()
        table.add_row(
            "peak fluence (µJ/cm²)",
            f"{lo_f:.4g} … {hi_f:.4g}",
            f"σ_pump {calibration.pump_sigma_nm:g} nm",
        )
        if calibration.cross_section_cm2 is not None:
            lo_n, hi_n = calibration.reachable_n_abs()
            table.add_row(
                "⟨N_abs⟩",
                f"{lo_n:.4g} … {hi_n:.4g}",
                f"σ_abs {calibration.cross_section_cm2:.3g} cm²",
            )
    else:
        table.add_row("peak fluence (µJ/cm²)", "needs the pump σ", "--sigma-nm / rig.pump_sigma_nm")
    return table


def residual_table(calibration: FluenceCalibration) -> Table:
    table = Table(title="Sweep and residuals")
    for column in ("setting", "power (W)", "± (W)", "fit (W)", "residual (W)", "res./σ"):
        table.add_column(column, justify="right")
    for p in calibration.points:
        residual = p.residual_w
        pull = residual / p.power_err_w if residual is not None and p.power_err_w > 0 else None
        table.add_row(
            f"{p.setting:.3f}",
            f"{p.power_w:.5g}",
            f"{p.power_err_w:.2g}",
            "" if p.model_w is None else f"{p.model_w:.5g}",
            "" if residual is None else f"{residual:+.2g}",
            "" if pull is None else f"{pull:+.2f}",
        )
    return table


def verification_table(calibration: FluenceCalibration) -> Table:
    table = Table(title="Check: powers set through the fitted law and read back")
    for column in ("target (W)", "setting", "measured (W)", "± (W)", "deviation"):
        table.add_column(column, justify="right")
    for v in calibration.verification:
        table.add_row(
            f"{v.target_power_w:.4g}",
            f"{v.setting:.3f}",
            f"{v.measured_power_w:.4g}",
            f"{v.measured_err_w:.2g}",
            f"{v.deviation:+.2%}",
        )
    return table


def print_report(console: Console, calibration: FluenceCalibration) -> None:
    console.print(parameter_table(calibration))
    console.print(residual_table(calibration))
    if calibration.verification:
        console.print(verification_table(calibration))
