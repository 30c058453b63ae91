"""Rig files, device assembly and the safe state (issue: foundation)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SIM_RIG, write_variant

from tamrig.cli import main
from tamrig.devices import ROLES
from tamrig.errors import ConfigError
from tamrig.rig import build_rig


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tamrig", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_devices_lists_every_role_with_identity(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    roles = {row["role"] for row in report["devices"]}
    assert roles == set(ROLES)
    for row in report["devices"]:
        assert row["identity"] and row["identity"] != "?"
    shutter = next(r for r in report["devices"] if r["role"] == "pump_shutter")
    assert shutter["state"] == {"open": False}


def test_devices_command_default_rig_subprocess() -> None:
    result = run_cli("devices")
    assert result.returncode == 0, result.stderr
    assert "pump_shutter" in result.stdout


def test_typo_key_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    rig = write_variant(tmp_path, "velocity_mm_s = 100.0", "velocty_mm_s = 100.0")
    result = run_cli("devices", "--rig", str(rig))
    assert result.returncode == 2
    assert str(rig) in result.stderr
    assert "devices.stage.velocty_mm_s" in result.stderr
    assert "Traceback" not in result.stderr


def test_string_for_number_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    rig = write_variant(tmp_path, "pixel_size_nm = 50.0", 'pixel_size_nm = "fifty"')
    result = run_cli("devices", "--rig", str(rig))
    assert result.returncode == 2
    assert str(rig) in result.stderr and "rig.pixel_size_nm" in result.stderr
    assert "fifty" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("[rig]\n", "[rgi]\n", "rgi"),
        ('kind = "simulated.stage"', 'kind = "simulated.stagee"', "devices.stage.kind"),
        ('kind = "simulated.camera"', 'kind = "simulated.shutter"', "devices.camera.kind"),
        ("time_scale = 0.0", "time_scale = -1", "simulation.time_scale"),
        ('preset = "cqd"', 'preset = "pbs"', "simulation.sample.preset"),
        ("frame_rate_hz = 200.0", "frame_rate_hz = [1]", "devices.camera.frame_rate_hz"),
        ("[devices.stage]", "[devices.stagee]", "devices"),
    ],
)
def test_bad_rig_files_name_the_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    rig = write_variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        build_rig(rig)
    assert info.value.field == field
    assert info.value.file == str(rig)


def test_toml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[rig\nname = 1")
    with pytest.raises(ConfigError, match="TOML syntax"):
        build_rig(bad)
    with pytest.raises(ConfigError, match="file not found"):
        build_rig(tmp_path / "missing.toml")


def test_pump_shutter_closed_after_exception_in_rig_context() -> None:
    rig = build_rig(SIM_RIG)
    with pytest.raises(RuntimeError, match="boom"), rig:
        rig.camera.start()
        rig.open_pump()
        assert rig.pump_shutter.is_open()
        raise RuntimeError("boom")
    world = rig.context.shared["simulators.world"]
    assert world.devices["pump_shutter"].true_open() is False
    assert not rig.camera.acquiring
    assert not any(d.connected for d in rig.devices.values())


def test_pump_shutter_closed_after_keyboard_interrupt() -> None:
    rig = build_rig(SIM_RIG)
    with pytest.raises(KeyboardInterrupt), rig:
        rig.camera.start()
        rig.open_pump()
        raise KeyboardInterrupt
    assert rig.pump_shutter.true_open() is False  # type: ignore[attr-defined]


def test_interlock_refuses_pump_without_acquisition(sim_rig) -> None:  # type: ignore[no-untyped-def]
    from tamrig.errors import InterlockError

    with pytest.raises(InterlockError):
        sim_rig.open_pump()
    assert not sim_rig.pump_shutter.is_open()


def test_lab_example_rig_validates_without_hardware() -> None:
    from tamrig.rigconfig import load_rig_config

    loaded = load_rig_config(REPO / "config" / "rigs" / "lab-example.toml")
    assert set(loaded.config.devices) == set(ROLES)


def test_delay_conversion_round_trip(sim_rig) -> None:  # type: ignore[no-untyped-def]
    assert sim_rig.delay_to_mm(0.0) == pytest.approx(37.5)
    reached = sim_rig.set_delay_fs(1000.0)
    assert reached == pytest.approx(1000.0, abs=1e-6)
    assert sim_rig.stage.position_mm() == pytest.approx(37.5 + 0.149896229, rel=1e-9)
