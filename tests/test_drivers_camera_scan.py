"""A scan through the engine on the GenICam driver and viky.cti: the camera is armed once
and stays armed from point to point (a discard per point, no stop/start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import pytest
from conftest import REPO

from tamrig.cli import main

EMULATED = REPO / "config" / "rigs" / "emulated.toml"

PLAN = """
name = "armed-camera"
description = "six delays on the real camera driver"
nesting = ["wavelength", "fluence", "sweep"]

[delays]
[[delays.segments]]
kind = "list"
values = [-200.0, 0.0, 100.0, 200.0, 300.0, 400.0]

[probe]
wavelengths_nm = [690.0]

[sweeps]
count = 1

[acquisition]
scheme = "shutter"
pairs_per_point = 4
block_frames = 8
dark_frames = 0
settle_frames = 1
measure_power = false
"""


def _viky_missing() -> str | None:
    try:
        from drivers.genicam_camera import find_cti

        find_cti("viky.cti")
    except FileNotFoundError as exc:
        return f"viky.cti not available: {exc}"
    return None


@pytest.mark.skipif(_viky_missing() is not None, reason=str(_viky_missing()))
def test_the_camera_stays_armed_across_the_points_of_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        assert f["entry"]["data"]["dtt"].shape[0] == 6
    scan = calls[calls.index("discard") - 1 :]  # from the arming before the first point
    assert scan[0] == "start" and scan.count("start") == 1
    assert scan.count("discard") >= 5  # the points after the first at least
    assert "stop" not in scan[: len(scan) - scan[::-1].index("discard")]  # none in between
