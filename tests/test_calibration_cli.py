"""``tamrig calibrate fluence``: output, saved file, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, write_variant

from tamrig.calibration import CALIBRATION_DIR_ENV, HwpLaw, load_calibration_file
from tamrig.cli import main


@pytest.fixture(autouse=True)
def calibration_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "calibrations"
    monkeypatch.setenv(CALIBRATION_DIR_ENV, str(folder))
    return folder


def test_calibrate_prints_fit_and_residuals_and_saves(
    capsys: pytest.CaptureFixture[str], calibration_dir: Path
) -> None:
    code = main(
        [
            "calibrate",
            "fluence",
            "--points",
            "15",
            "--averaging",
            "50",
            "--sigma-nm",
            "141",
            "--pbs-diameter-nm",
            "3",
            "--absorbance-ratio",
            "0.4",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "θ0 (deg)" in out and "extinction" in out and "residual" in out
    assert "⟨N_abs⟩" in out and "saved to" in out and "read back" in out
    saved = calibration_dir / "simulated-tam-rig.json"
    calibration = load_calibration_file(saved)
    assert isinstance(calibration.law, HwpLaw)
    assert len(calibration.points) == 12 + 15
    assert calibration.meter_averaging == 50
    assert calibration.cross_section_cm2 == pytest.approx(9.6e-16, rel=0.01)
    assert calibration.n_abs_for_fluence(16.1) == pytest.approx(0.045, rel=0.01)


def test_calibrate_json_to_out_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "my.json"
    assert main(["calibrate", "fluence", "--json", "--out", str(out_file), "--points", "8"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out_file.read_text())
    assert printed["law"]["kind"] == "hwp"


def _run(*args: str, env_dir: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, CALIBRATION_DIR_ENV: str(env_dir), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "tamrig", "calibrate", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run in-process; argparse usage errors leave by SystemExit(2)."""
    try:
        code = main(["calibrate", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["fluence", "--points", "2"], "points"),
        (["fluence", "--verify", "-1"], "verify_points"),
        (["fluence", "--absorbance-ratio", "0.4"], "--pbs-diameter-nm"),
        (["power"], "invalid choice"),
        (["fluence", "--pbs-diameter-nm", "3"], "absorbance_ratio"),
    ],
)
def test_bad_arguments_exit_2(
    args: list[str], needle: str, calibration_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _main(args, capsys)
    assert code == 2, err
    assert needle in err and "Traceback" not in err
    assert not calibration_dir.exists()


def test_rig_without_attenuator_exits_2(
    tmp_path: Path, calibration_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (REPO / "config" / "rigs" / "simulated.toml").read_text()
    start = text.index("[devices.attenuator]")
    end = text.index("[devices.wavelength_selector]")
    path = tmp_path / "no-attenuator.toml"
    path.write_text(text[:start] + text[end:])
    code, err = _main(["fluence", "--rig", str(path)], capsys)
    assert code == 2
    assert str(path) in err and "devices.attenuator" in err


def test_meter_fault_exits_1(tmp_path: Path, calibration_dir: Path) -> None:
    # a pump the simulated Si sensor cannot be corrected for: the meter refuses (device fault)
    path = write_variant(tmp_path, "pump_wavelength_nm = 580.0", "pump_wavelength_nm = 300.0")
    result = _run("fluence", "--rig", str(path), env_dir=calibration_dir)
    assert result.returncode == 1, result.stderr
    assert "power_meter" in result.stderr and "400-1100" in result.stderr
    assert "Traceback" not in result.stderr
