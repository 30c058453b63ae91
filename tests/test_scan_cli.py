"""`tamrig scan`: the demo end to end, exit codes, kill -9 / SIGTERM and --resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, write_variant

import tamrig.engine.session as session
from tamrig.cli import main
from tamrig.errors import StorageError
from tamrig.rig import Rig
from tamrig.storage import open_scan

DEMO = REPO / "config" / "scans" / "demo.toml"
DEMO_TEXT = DEMO.read_text()


def scan_cli(*args: str) -> int:
    return main(["scan", *args, "--quiet"])


def variant_plan(tmp_path: Path, old: str, new: str) -> Path:
    assert old in DEMO_TEXT, old
    path = tmp_path / "plan.toml"
    path.write_text(DEMO_TEXT.replace(old, new, 1))
    return path


def test_demo_plan_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.h5"
    assert scan_cli(str(DEMO), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "finished, 204 of 204 points stored" in printed
    assert "905nm/N=0.18: σ₀ = " in printed  # the live σ₀ of each curve
    with open_scan(out) as f:
        assert f.status == "finished"
        assert Counter(f.indices()) == Counter(range(204))
        points = f.points()
        assert set(points["n_abs"].tolist()) == {0.045, 0.09, 0.18}
        assert set(points["probe_wavelength_nm"].tolist()) == {905.0}
        assert f.plan["name"] == "demo"
        # the bleach is there: at 300 fs (N = 0.18) the centre of ΔT/T is well above the
        # error of its 4x4-pixel mean
        at = enumerate(zip(points["index"], points["delay_fs"], points["n_abs"]))
        row, index = next(
            (r, int(i))
            for r, (i, d, n) in at
            if d == 300.0 and n == 0.18 and not points["reference"][r]
        )
        dtt, err = f.dtt(index)[30:34, 30:34], f.dtt_err(index)[30:34, 30:34]
        assert dtt.mean() > 5 * err.mean() / 4
        # …and the live fit saw it: σ near σ₀ = 141 nm, σ₀ known for the series
        assert 120 < points["sigma_nm"][row] < 220
        assert 120 < points["sigma0_nm"][row] < 165
    # an existing file is refused without --overwrite (exit 2: input), kept intact
    assert scan_cli(str(DEMO), "--out", str(out)) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('unit = "ps"', 'unit = "parsec"', "delays.segments[3].unit"),
        ("stop = 1000\n", "stop = 5000\n", "delays.segments[3]"),  # 5 ns: past the travel
        ("values = [0.045, 0.09, 0.18]", "values = []", "fluence.values"),
        ("dark_frames = 200", "dark_frame = 200", "acquisition.dark_frame"),
        ("wavelengths_nm = [905.0]", "wavelengths_nm = [1550.0]", "probe.wavelengths_nm[0]"),
    ],
)
def test_invalid_plan_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, field: str
) -> None:
    plan = variant_plan(tmp_path, old, new)
    out = tmp_path / "never.h5"
    assert scan_cli(str(plan), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert str(plan) in err and f"field '{field}'" in err
    assert "Traceback" not in err
    assert not out.exists()  # rejected before the file (and before any motor move)


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert scan_cli() == 2
    assert scan_cli(str(DEMO), "--resume", str(tmp_path / "x.h5")) == 2
    assert scan_cli(str(tmp_path / "missing.toml")) == 2
    err = capsys.readouterr().err
    assert "missing.toml" in err and "not found" in err


def test_fault_exits_1_with_the_pump_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rig_file = write_variant(
        tmp_path,
        "[simulation.sample]",
        '[[simulation.faults]]\ndevice = "stage"\nkind = "stall_error"\non_call = 6\n'
        "times = 1000\n\n[simulation.sample]",
    )
    rigs: list[Rig] = []
    real_connect = session._connect

    def spy(rig: Any) -> tuple[Rig, bool]:
        built, owns = real_connect(rig)
        rigs.append(built)
        return built, owns

    monkeypatch.setattr(session, "_connect", spy)
    out = tmp_path / "fault.h5"
    code = scan_cli(str(DEMO), "--rig", str(rig_file), "--out", str(out), "--max-retries", "2")
    assert code == 1
    assert "stage" in capsys.readouterr().err
    pump: Any = rigs[0].pump_shutter
    assert not pump.true_open()  # the simulated blade really is closed
    with open_scan(out) as f:
        assert f.status == "fault"
        assert f.indices() == [0, 1, 2, 3, 4]  # the points before the stage stalled
        faults = [e["message"] for e in f.events() if e["kind"] == "fault"]
    # --max-retries 2: three attempts at point 5, then the fault that ended the scan
    stall = "stage: controller reports motor stalled (following error) at "
    assert all(m.startswith(stall) for m in faults)
    assert [m.rsplit(" mm", 1)[1] for m in faults] == [
        " (at point 5, attempt 1 of 3)",
        " (at point 5, attempt 2 of 3)",
        " (at point 5, attempt 3 of 3)",
        "",
    ]


# -- killed and interrupted scans ---------------------------------------------------------------


def slow_setup(tmp_path: Path) -> tuple[Path, Path]:
    """A rig whose simulated time runs at 1/20 of real time and a 26-point plan."""
    rig = write_variant(tmp_path, "time_scale = 0.0", "time_scale = 0.05")
    rig.write_text(rig.read_text().replace("accumulate = 200", "accumulate = 1", 1))
    plan = tmp_path / "plan.toml"
    plan.write_text(
        DEMO_TEXT.replace("count = 2\n", "count = 1\n", 1)
        .replace("values = [0.045, 0.09, 0.18]", "values = [0.09]")
        .replace("pairs_per_point = 150", "pairs_per_point = 10")
    )
    return rig, plan


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tamrig", "scan", *args, "--quiet"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Poll ``condition`` until true; fail if the process ends first (bounded wait)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)


def stored(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with open_scan(path) as f:
            return len(f.indices())
    except (StorageError, OSError):  # the file is still being created
        return 0


def test_kill_9_then_resume_stores_every_point_once(tmp_path: Path) -> None:
    rig, plan = slow_setup(tmp_path)
    out = tmp_path / "killed.h5"
    process = spawn(str(plan), "--rig", str(rig), "--out", str(out))
    wait_for(lambda: stored(out) >= 3, process)
    process.send_signal(signal.SIGKILL)
    process.wait(60)
    with open_scan(out) as f:
        killed_at = len(f.indices())
        total = f.metadata["n_points_planned"]
        assert f.status == "interrupted" and 3 <= killed_at < total
    resumed = subprocess.run(
        [sys.executable, "-m", "tamrig", "scan", "--resume", str(out), "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert resumed.returncode == 0, resumed.stderr
    with open_scan(out) as f:
        assert f.status == "finished"
        assert Counter(f.indices()) == Counter(range(total))  # every point exactly once
        assert any(e["kind"] == "resume" for e in f.events())


def test_sigterm_exits_130_with_data_kept(tmp_path: Path) -> None:
    rig, plan = slow_setup(tmp_path)
    out = tmp_path / "stopped.h5"
    process = spawn(str(plan), "--rig", str(rig), "--out", str(out))
    wait_for(lambda: stored(out) >= 2, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    with open_scan(out) as f:
        assert f.status == "aborted"
        assert len(f.indices()) >= 2
        assert any(e["kind"] == "interrupted" for e in f.events())


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_at_a_safe_point_and_twice_stops_at_once(tmp_path: Path, presses: int) -> None:
    """The first Ctrl-C asks the engine to stop between frame blocks (pump closed, points
    kept); a second one interrupts at once. Either way: exit 130, resumable."""
    rig, plan = slow_setup(tmp_path)
    out = tmp_path / "stopped.h5"
    process = spawn(str(plan), "--rig", str(rig), "--out", str(out))
    wait_for(lambda: stored(out) >= 2, process)
    for _ in range(presses):
        process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    if presses == 1:  # a second press may cut the first one's notice short
        assert "stopping after the current frame block" in err
    with open_scan(out) as f:
        assert f.status == "aborted" and len(f.indices()) >= 2
        assert any(e["kind"] == "interrupted" for e in f.events())
    assert scan_cli("--resume", str(out), "--rig", str(rig)) == 0
    with open_scan(out) as f:
        assert f.status == "finished" and sorted(f.indices()) == list(range(len(f.indices())))


def test_check_shows_the_plan_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never.h5"
    assert scan_cli(str(DEMO), "--check", "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert "points: 204 (2 sweep(s); 33 delays from -500 fs to 1 ns; 6 reference points)" in text
    assert "N_abs 0.09" in text and "905 nm" in text and "150 pairs per point" in text
    assert "camera time: 61400 frames" in text and "plan OK" in text
    # predicted precision: shot + read noise of 200 accumulated exposures, 150 pairs
    assert "ΔT/T noise 2.7e-05 per pixel per point" in text
    assert "N=0.045: ΔT/T ≈ 0.001 -> sd(σ) 0.76 nm, sd(centre) 1.1 nm per point" in text
    assert "peak D ≈ 100 ± 2.9 cm²/s at 300 fs (resolved)" in text
    assert not out.exists()
    far = variant_plan(tmp_path, "stop = 1000", "stop = 100000")  # beyond the stage travel
    assert scan_cli(str(far), "--check") == 2
    assert "field 'delays.segments[3]" in capsys.readouterr().err
    assert scan_cli("--check", "--resume", str(out)) == 2
