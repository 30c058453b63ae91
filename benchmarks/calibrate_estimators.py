"""Simulation-based calibration of the transport estimators: the table in docs/analysis.md.

Draws random samples (σ₀ 100–250 nm, α 1.05–1.5, peak D 30–150 cm²/s at 200–600 fs, IRF
20–60 fs, t₀ ±20 fs, D_hop 0.005–0.05 cm²/s, Auger L_A² 500–3000 nm² × ⟨N_abs⟩/0.045,
τ_A 10–40 ps, per-point σ error 0.3–4 nm, bleach or photo-induced absorption), generates
the per-point columns of a scan on the demo plan's grid and on the paper's default grid
(tests/sbc_support.py, written apart from the analysis), runs ``analyse_points`` and
prints per quantity: how many draws reported it, the mean pull (bias in units of the
reported error) with its standard error, the pull spread (standard deviation and 1.4826·MAD)
and the fraction of 68 % intervals that cover the truth. Targets: |mean pull| < 0.5,
pull spread 0.8–1.25, coverage 60–76 %.

    python benchmarks/calibrate_estimators.py [--draws 300] [--grid demo|paper|both] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from sbc_support import calibrate, demo_grid, paper_grid  # noqa: E402

from tamrig.process import tune  # noqa: E402

NAMES = {
    "sigma0": "σ₀ (nm)",
    "d_peak": "peak D (cm²/s)",
    "t_peak": "t_peak (fs)",
    "length": "L (nm)",
    "alpha": "α",
    "d_hop": "D_hop (cm²/s)",
    "auger": "Auger growth (nm²)",
    "t0": "t₀ (fs)",
    "irf": "IRF FWHM (fs)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--grid", choices=("demo", "paper", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tune()
    grids = {"demo": demo_grid, "paper": paper_grid}
    for name in ("demo", "paper") if args.grid == "both" else (args.grid,):
        delays, sweeps = grids[name]()
        start = time.process_time()
        results, draws = calibrate(delays, sweeps, args.draws, args.seed)
        cpu = time.process_time() - start
        print(
            f"\n{name} grid: {delays.size} delays × {sweeps} sweeps, {draws} random truths "
            f"({cpu / draws:.2f} s CPU per draw)\n"
        )
        print("| quantity | reported | typical err | mean pull | pull sd | pull MAD | 68 % |")
        print("|---|---|---|---|---|---|---|")
        for key, c in results.items():
            err_of_mean = c.pull_sd / max(c.n, 1) ** 0.5
            print(
                f"| {NAMES[key]} | {c.n}/{draws} | {c.typical_err:.3g} | "
                f"{c.relative_bias:+.2f} ± {err_of_mean:.2f} | {c.pull_sd:.2f} | "
                f"{c.pull_mad:.2f} | {100 * c.coverage:.0f} % |"
            )


if __name__ == "__main__":
    main()
