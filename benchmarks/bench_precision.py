"""Predicted precision (``tamrig scan --check``) against the scatter of fits on the simulated rig.

For a few fluences and frame-pair counts the script measures one delay (300 fs) in many
sweeps, then compares the scatter of the fitted width and centre, and of ΔT/T off the spot,
with what :mod:`tamrig.plan.precision` predicts from the camera's noise model. The only
sample input of the prediction is the spot amplitude, taken from the fits themselves.

    .venv/bin/python benchmarks/bench_precision.py [--sweeps 40] [--accumulate 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tamrig.engine.session import check_scan, start_scan  # noqa: E402
from tamrig.plan import ScanPlan, plan_from_dict  # noqa: E402
from tamrig.plan.precision import predict_precision  # noqa: E402
from tamrig.rig import Rig, build_rig  # noqa: E402
from tamrig.storage import open_scan  # noqa: E402

SIM_RIG = REPO / "config" / "rigs" / "simulated.toml"


def repeat_plan(n_abs: float, pairs: int, sweeps: int) -> ScanPlan:
    return plan_from_dict(
        {
            "name": "precision",
            "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
            "delays": {"segments": [{"kind": "list", "values": [300]}]},
            "fluence": {"unit": "n_abs", "values": [n_abs]},
            "probe": {"wavelengths_nm": [905.0]},
            "sweeps": {"count": sweeps},
            "acquisition": {"pairs_per_point": pairs, "block_frames": 80, "dark_frames": 40},
        }
    )


def measure(rig: Rig, n_abs: float, pairs: int, sweeps: int, folder: Path) -> dict[str, float]:
    plan = repeat_plan(n_abs, pairs, sweeps)
    check = check_scan(plan, rig=rig)
    assert check.precision is not None
    out = folder / f"n{n_abs}-p{pairs}.h5"
    with start_scan(plan, out=out, rig=rig) as scan:
        scan.run()
    with open_scan(out) as f:
        points = f.points()
        corners = np.array([f.dtt(int(i))[:16, :16] for i in points["index"]])
    ok = points["converged"].astype(bool)
    amplitude = float(np.mean(points["amplitude"][ok]))
    noise = rig.camera.noise()
    assert noise is not None
    predicted = predict_precision(
        check.resolved,
        noise,
        rig.settings.pixel_size_nm,
        141.0,
        expected_dtt=amplitude * 0.045 / n_abs,
    ).fluences[0]
    centre = np.concatenate([points["x0_nm"][ok], points["y0_nm"][ok]])
    return {
        "noise_pred": check.precision.sigma_n,
        "noise_meas": float(np.std(corners - corners.mean(axis=0), ddof=1)),
        "sigma_pred": predicted.sigma_err_nm,
        "sigma_meas": float(np.std(points["sigma_nm"][ok], ddof=1)),
        "centre_pred": predicted.centre_err_nm,
        "centre_meas": float(np.std(centre, ddof=1)),
        "converged": float(ok.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=40, help="repeats of the delay")
    parser.add_argument("--accumulate", type=int, default=20, help="exposures per frame")
    args = parser.parse_args()
    overrides = {"time_scale": 0.0, "camera_accumulate": args.accumulate}
    print(f"one delay (300 fs) x {args.sweeps} sweeps; K = {args.accumulate} exposures/frame")
    print("N_abs  pairs   ΔT/T noise pred/meas    sd(σ) nm pred/meas    sd(centre) nm pred/meas")
    with tempfile.TemporaryDirectory() as tmp, build_rig(SIM_RIG, overrides=overrides) as rig:
        for n_abs, pairs in ((0.045, 20), (0.045, 80), (0.18, 20), (0.18, 80)):
            r = measure(rig, n_abs, pairs, args.sweeps, Path(tmp))
            print(
                f"{n_abs:<6g} {pairs:<5d}   {r['noise_pred']:.3g} / {r['noise_meas']:.3g}"
                f"        {r['sigma_pred']:.3g} / {r['sigma_meas']:.3g}"
                f"          {r['centre_pred']:.3g} / {r['centre_meas']:.3g}"
                + ("" if r["converged"] == 1 else f"  ({r['converged']:.0%} converged)")
            )


if __name__ == "__main__":
    main()
