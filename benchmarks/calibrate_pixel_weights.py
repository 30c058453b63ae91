"""The spot fit's pixel weights on random truths: the table in docs/analysis.md.

At each number of pump on/off pairs per point, draws spots of random width, amplitude
(either sign), centre and offset on a probe of random size and position, makes the frames
(shot noise, read noise, probe jitter) and averages them with the accumulator
(tests/pixel_weights_support.py), then fits each image with the pooled pixel weights the
live monitor uses and with the former raw weights 1/err². Prints per case: spots not
significant, mean pull of σ (bias in units of its reported error), pull spread, 68 %
coverage, spots more than 4 errors narrower than the truth; and the cost of the weights.

    python benchmarks/calibrate_pixel_weights.py [--draws 1000] [--pairs 2 3 5 50] [--seed 1000]
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import numpy as np  # noqa: E402
from pixel_weights_support import draws, monitor_width, raw_width  # noqa: E402

from tamrig.analysis.pixel_weights import fit_weights  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--pairs", type=int, nargs="+", default=[2, 3, 5, 50])
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()
    print("| pairs | weights | not significant | mean pull | pull sd | 68 % | > 4 errors narrow |")
    print("|---|---|---|---|---|---|---|")
    for pairs in args.pairs:
        seed = args.seed + pairs  # the same truths and frames for both weights
        for name, width in (("raw 1/s²", raw_width), ("pooled", monitor_width)):
            rows, missed = draws(pairs, seed, args.draws, width)
            pulls = (rows[:, 0] - rows[:, 2]) / rows[:, 1]
            narrow = int(np.sum(rows[:, 0] < rows[:, 2] - 4.0 * rows[:, 1]))
            print(
                f"| {pairs} | {name} | {missed / args.draws:.1%} | {pulls.mean():+.2f} "
                f"± {pulls.std(ddof=1) / np.sqrt(pulls.size):.2f} | {pulls.std(ddof=1):.2f} | "
                f"{np.mean(np.abs(pulls) < 1):.0%} | {narrow} |"
            )
    for n in (64, 128, 256):
        err = np.random.default_rng(0).uniform(1e-5, 1e-4, (n, n))
        cost = min(timeit.repeat(lambda e=err: fit_weights(e, 2, 2), number=100, repeat=5))
        print(f"fit_weights, {n}² image: {cost / 100 * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
