"""A short scan (`tamrig scan`) on the rig of real drivers against the emulators."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import REPO

from tamrig.cli import main

EMULATED = REPO / "config" / "rigs" / "emulated.toml"

PLAN = """
name = "emulated-smoke"
description = "four delays, one probe filter, shutter-block acquisition"
nesting = ["wavelength", "fluence", "sweep"]

[delays]
[[delays.segments]]
kind = "list"
values = [-200.0, 0.0, 200.0, 400.0]

[probe]
wavelengths_nm = [690.0]

[sweeps]
count = 1

[acquisition]
scheme = "shutter"          # viky has no chopper-reference chunk
pairs_per_point = 4
block_frames = 8
dark_frames = 0             # viky's picture ignores the probe shutter: a dark frame is lit
settle_frames = 1
measure_power = true
"""


def _requirements() -> str | None:
    try:
        from drivers.genicam_camera import find_cti

        find_cti("viky.cti")
    except FileNotFoundError as exc:
        return f"viky.cti not available: {exc}"
    return None


@pytest.mark.skipif(_requirements() is not None, reason=str(_requirements()))
def test_short_scan_on_real_drivers(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    out = tmp_path / "scan.h5"
    rc = main(["scan", str(plan), "--rig", str(EMULATED), "--out", str(out), "--quiet"])
    assert rc == 0
    with h5py.File(out, "r") as f:
        entry = f["entry"]
        dtt = entry["data"]["dtt"][()]
        assert dtt.shape[-2:] == (128, 128)
        assert np.all(np.isfinite(dtt))
        delays = entry["data"]["delay_fs"][()]
        assert sorted(np.round(delays).tolist()) == [-200.0, 0.0, 200.0, 400.0]
        table = entry["points"][()]  # the per-point columns without a dataset of their own
        assert table["dropped_frames"].shape == (4,)  # recorded per point
        assert np.all(entry["data"]["probe_wavelength_nm"][()] == 690.0)  # FW102C slot 2
        power = table["power_w"]
        assert np.all((power >= 1.0e-3) & (power <= 1.1e-3))  # the PM100D on pyvisa-sim
        stage = json.loads(entry["instrument"]["stage"]["settings_json"][()])
        assert stage["class"] == "drivers.newport_smc100.SMC100Stage"
