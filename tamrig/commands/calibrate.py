"""``tamrig calibrate fluence``: sweep the pump attenuator against the power meter.

Fits the attenuator law, prints the fit with its residuals and saves the calibration where
scans find it (``calibrations/<rig>.json`` beside the rig file — for the shipped simulated
rig in the user's data folder — ``$TAMRIG_CALIBRATION_DIR`` or ``--out``). The pump shutter
stays closed unless the rig's meter sits behind it.
"""

from __future__ import annotations

import argparse
import json

from tamrig.errors import EXIT_OK, InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["fluence"], help="what to calibrate")
    parser.add_argument("--rig", help="rig file (default: the simulated rig)")
    parser.add_argument(
        "--out", help="calibration file to write (default: where scans on this rig look for it)"
    )
    parser.add_argument("--points", type=int, default=25, help="settings on the monotonic branch")
    parser.add_argument(
        "--coarse-points", type=int, default=12, help="settings over one period to locate θ0"
    )
    parser.add_argument("--averaging", type=int, help="power-meter averaging per reading")
    parser.add_argument("--repeats", type=int, default=3, help="readings per setting")
    parser.add_argument(
        "--verify", type=int, default=3, help="powers set and read back after the fit (0: none)"
    )
    parser.add_argument(
        "--margin", type=float, default=2.0, help="deg kept clear of the branch's flat ends"
    )
    parser.add_argument(
        "--sweep",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="explicit angle range (deg) instead of locating θ0 first",
    )
    parser.add_argument("--sigma-nm", type=float, help="pump spot σ (default: rig.pump_sigma_nm)")
    sample = parser.add_mutually_exclusive_group()
    sample.add_argument("--cross-section-cm2", type=float, help="sample σ_abs at the pump")
    sample.add_argument(
        "--pbs-diameter-nm",
        type=float,
        help="derive σ_abs for PbS dots of this diameter (Moreels 2009; needs --absorbance-ratio)",
    )
    parser.add_argument(
        "--absorbance-ratio", type=float, help="A(λ_pump)/A(400 nm) of the sample's spectrum"
    )
    parser.add_argument("--no-save", action="store_true", help="print only, write no file")
    parser.add_argument("--json", action="store_true", help="print the calibration as JSON")


def _cross_section(args: argparse.Namespace, pump_wavelength_nm: float) -> float | None:
    if args.pbs_diameter_nm is not None:
        from tamrig.calibration.sizing import pbs_cross_section_cm2

        return pbs_cross_section_cm2(
            args.pbs_diameter_nm, pump_wavelength_nm, args.absorbance_ratio
        )
    if args.absorbance_ratio is not None:
        raise InputError(
            "--absorbance-ratio given without --pbs-diameter-nm",
            field="--absorbance-ratio",
            expected="it together with --pbs-diameter-nm",
        )
    value: float | None = args.cross_section_cm2
    return value


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tamrig.calibration import (
        SweepOptions,
        calibrate_fluence,
        calibration_path,
        save_calibration,
    )
    from tamrig.rig import build_rig

    options = SweepOptions(
        points=args.points,
        coarse_points=args.coarse_points,
        repeats=args.repeats,
        averaging=args.averaging,
        margin_deg=args.margin,
        sweep_deg=(args.sweep[0], args.sweep[1]) if args.sweep else None,
        verify_points=args.verify,
    )
    options.check()
    rig = build_rig(args.rig)
    cross_section = _cross_section(args, rig.settings.pump_wavelength_nm)
    if args.sigma_nm is not None and not args.sigma_nm > 0:
        raise InputError(f"--sigma-nm {args.sigma_nm}", field="--sigma-nm", expected="> 0 nm")
    console = Console(width=120, stderr=args.json)
    with rig, console.status("calibrating the pump attenuator ...") as status:

        def progress(done: int, total: int, setting: float, power_w: float) -> None:
            status.update(f"{done}/{total}: setting {setting:.3f} -> {power_w:.4g} W")

        calibration = calibrate_fluence(
            rig,
            options,
            pump_sigma_nm=args.sigma_nm,
            cross_section_cm2=cross_section,
            progress=progress,
        )
    path = None if args.no_save else save_calibration(calibration, calibration_path(rig, args.out))
    if args.json:
        print(json.dumps(calibration.model_dump(mode="json"), indent=2))
    else:
        from tamrig.calibration.report import print_report

        print_report(console, calibration)
    if path is not None:
        console.print(f"calibration saved to [bold]{path}[/bold]")
    return EXIT_OK
