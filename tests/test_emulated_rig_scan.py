"""A short scan (`tamrig scan`) on the rig of real drivers against the emulators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


@pytest.mark.skipif(_requirements() is not None, reason=str(_requirements()))
def test_the_camera_stays_armed_across_the_points_of_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GenICam camera is armed once and stays armed from point to point: a discard per
    point, no stop/start in between."""
    from harvesters.core import ImageAcquirer

    from drivers.genicam_camera import GenICamCamera

    calls: list[str] = []

    def counting(name: str, method: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return method(self, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(ImageAcquirer, "start", counting("start", ImageAcquirer.start))
    monkeypatch.setattr(ImageAcquirer, "stop", counting("stop", ImageAcquirer.stop))
    discard = GenICamCamera.discard_pending
    monkeypatch.setattr(GenICamCamera, "discard_pending", counting("discard", discard))
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    out = tmp_path / "scan.h5"
    rc = main(["scan", str(plan), "--rig", str(EMULATED), "--out", str(out), "--quiet"])
    assert rc == 0
    with h5py.File(out, "r") as f:
        assert f["entry"]["data"]["dtt"].shape[0] == 4
    scan = calls[calls.index("discard") - 1 :]  # from the arming before the first point
    assert scan[0] == "start" and scan.count("start") == 1
    assert scan.count("discard") >= 3  # the points after the first at least
    assert "stop" not in scan[: len(scan) - scan[::-1].index("discard")]  # none in between
