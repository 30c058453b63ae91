"""Start-up time of ``tamrig --help`` and which heavy libraries it imports (none should).

Runs ``python -m tamrig --help`` in fresh subprocesses (after one warm-up run that fills
the bytecode and file caches) and prints the median and best wall time (target < 0.5 s),
plus the bare interpreter's start-up for reference. Then lists the heavy modules (numpy,
scipy, h5py, Qt, pyqtgraph, matplotlib, pydantic, pyvisa, serial, harvesters, ...) loaded
by ``--help``: sub-commands import them only when they run.

    python benchmarks/bench_startup.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "numpy",
    "scipy",
    "h5py",
    "PyQt6",
    "pyqtgraph",
    "matplotlib",
    "pydantic",
    "pyvisa",
    "serial",
    "harvesters",
    "genicam",
    "pymeasure",
    "rich",
)
PROBE = (
    "import sys, contextlib, io\n"
    "from tamrig.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    try:\n"
    "        main(['--help'])\n"
    "    except SystemExit:\n"
    "        pass\n"
    "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
)


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def wall_times(cmd: list[str], runs: int) -> list[float]:
    subprocess.run(cmd, check=True, capture_output=True, env=_env())  # warm caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=_env())
        times.append(time.perf_counter() - t0)
    return times


def heavy_imports() -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True, env=_env()
    )
    loaded = set(out.stdout.split())
    return [m for m in HEAVY if m in loaded]


def measure(runs: int = 11) -> dict[str, object]:
    help_times = wall_times([sys.executable, "-m", "tamrig", "--help"], runs)
    bare = wall_times([sys.executable, "-c", "pass"], runs)
    return {
        "median_s": statistics.median(help_times),
        "best_s": min(help_times),
        "python_s": statistics.median(bare),
        "heavy": heavy_imports(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    r = measure(args.runs)
    print(
        f"tamrig --help: median {r['median_s']:.3f} s, best {r['best_s']:.3f} s over "
        f"{args.runs} runs (target < 0.5 s); bare python -c pass: {r['python_s']:.3f} s"
    )
    heavy = r["heavy"]
    print("heavy modules imported by --help:", ", ".join(heavy) if heavy else "none")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
