"""A simulated measurement campaign: the paper's samples at three fluences, one file each.

The samples are the pure CQD film, QDiP 40 vol % and QDiP 90 vol % (the paper's presets)
and two interpolated perovskite fractions (20 and 65 vol %; the simulator interpolates τ_s and
D_s below 40 % and fades the super-diffusive term out above). Every sample gets its own rig
file (the simulated rig with ``[simulation.sample]`` set) and every fluence its own plan,
so the folder holds what a real campaign would: plans, rig files and scan files whose
``[sample.metadata]`` records the perovskite fraction.

    python -m simulators.campaign OUT_DIR [--small] [--raw-frames]

``--small`` is a reduced campaign (fewer delays and frames) that runs in seconds, for tests;
``PEAK`` (in code) measures only the super-diffusive window, with full frames.
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from tamrig.engine.session import start_scan
from tamrig.plan import load_plan
from tamrig.rigconfig import DEFAULT_RIG


@dataclass(frozen=True)
class CampaignSample:
    name: str
    preset: str  # simulators.sample preset ("custom": set by the fraction alone)
    perovskite_fraction: float


SAMPLES: tuple[CampaignSample, ...] = (
    CampaignSample("CQD", "cqd", 0.0),
    CampaignSample("QDiP 20", "custom", 0.2),
    CampaignSample("QDiP 40", "qdip40", 0.4),
    CampaignSample("QDiP 65", "custom", 0.65),
    CampaignSample("QDiP 90", "qdip90", 0.9),
)
N_ABS: tuple[float, ...] = (0.045, 0.09, 0.18)
PROBE_NM = 905.0  # the PbS bleach: the strongest positive band


@dataclass(frozen=True)
class Size:
    """How much to measure per file: delays, frames per point at N_abs = 0.18, sweeps."""

    delays: list[dict[str, Any]]
    pairs_at_018: int
    sweeps: int
    dark_frames: int


FULL = Size(
    delays=[
        {"kind": "list", "values": [-300.0, -150.0]},
        {"kind": "linear", "start": 0.0, "stop": 1000.0, "step": 50.0},
        {"kind": "log", "start": 1.5, "stop": 1000.0, "count": 14, "unit": "ps"},
    ],
    pairs_at_018=150,
    sweeps=2,
    dark_frames=200,
)
SMALL = Size(
    delays=[
        {"kind": "list", "values": [-150.0, 0.0, 100.0, 200.0, 300.0, 400.0, 600.0, 900.0]},
        {
            "kind": "list",
            "values": [1.0, 3.0, 10.0, 30.0, 100.0, 200.0, 400.0, 1000.0],
            "unit": "ps",
        },
    ],
    pairs_at_018=12,
    sweeps=1,
    dark_frames=20,
)

#: Only the super-diffusive window, densely, with the frames of FULL: enough to tell the
#: samples' peaks apart in a test that runs in seconds (no Auger or hopping delays).
PEAK = Size(
    delays=[
        {"kind": "list", "values": [-150.0]},
        {"kind": "linear", "start": 0.0, "stop": 1000.0, "step": 50.0},
        {"kind": "list", "values": [2000.0]},
    ],
    pairs_at_018=150,
    sweeps=1,
    dark_frames=50,
)


def rig_document(sample: CampaignSample, seed: int) -> dict[str, Any]:
    """The simulated rig with this sample on the stage, instantaneous time, own seed."""
    data = tomllib.loads(DEFAULT_RIG.read_text())
    data["simulation"]["time_scale"] = 0.0
    data["simulation"]["seed"] = seed
    data["simulation"]["sample"] = {
        "preset": sample.preset,
        "perovskite_fraction": sample.perovskite_fraction,
    }
    return data


def plan_document(
    sample: CampaignSample, n_abs: float, size: Size, raw_frames: bool
) -> dict[str, Any]:
    """One fluence of one sample; lower fluences get more frames (the signal scales with N)."""
    pairs = max(4, round(size.pairs_at_018 * 0.18 / n_abs))
    return {
        "name": f"{_slug(sample.name)}-N{n_abs:g}",
        "description": f"{sample.name}: transport at <N_abs> = {n_abs:g}",
        "nesting": ["wavelength", "fluence", "sweep"],
        "sample": {
            "name": sample.name,
            "cross_section_cm2": 9.6e-16,
            "pump_sigma_nm": 141.0,
            "metadata": {"perovskite_fraction": sample.perovskite_fraction},
        },
        "delays": {"reference_fs": 300.0, "segments": size.delays},
        "fluence": {"unit": "n_abs", "values": [n_abs]},
        "probe": {"wavelengths_nm": [PROBE_NM]},
        "sweeps": {"count": size.sweeps, "order": "alternating"},
        "acquisition": {
            "scheme": "chopper",
            "pairs_per_point": pairs,
            "block_frames": min(2 * pairs, 400),
            "dark_frames": size.dark_frames,
            "record_raw_frames": raw_frames,
        },
    }


def write_campaign(
    folder: str | Path,
    *,
    samples: Sequence[CampaignSample] = SAMPLES,
    n_abs: Sequence[float] = N_ABS,
    size: Size = FULL,
    raw_frames: bool = False,
) -> list[Path]:
    """Write rigs/, plans/ and scans/ under ``folder``; returns the scan files."""
    root = Path(folder)
    for sub in ("rigs", "plans", "scans"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    written = []
    for i, sample in enumerate(samples):
        rig = root / "rigs" / f"{_slug(sample.name)}.toml"
        rig.write_text(tomli_w.dumps(rig_document(sample, seed=20261200 + i)))
        for n in n_abs:
            doc = plan_document(sample, n, size, raw_frames)
            plan_path = root / "plans" / f"{doc['name']}.toml"
            plan_path.write_text(tomli_w.dumps(doc))
            out = root / "scans" / f"{doc['name']}.h5"
            with start_scan(load_plan(plan_path), out=out, rig=rig, overwrite=True) as scan:
                status = scan.run()
            if status != "finished":
                raise RuntimeError(f"{out}: simulated scan ended {status}")
            written.append(out)
    return written


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.campaign", description=__doc__)
    parser.add_argument("folder", help="where to write rigs/, plans/ and scans/")
    parser.add_argument("--small", action="store_true", help="reduced size (seconds)")
    parser.add_argument("--raw-frames", action="store_true", help="also store raw frames")
    args = parser.parse_args(argv)
    files = write_campaign(
        args.folder, size=SMALL if args.small else FULL, raw_frames=args.raw_frames
    )
    print(f"{len(files)} scan files in {Path(args.folder) / 'scans'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
