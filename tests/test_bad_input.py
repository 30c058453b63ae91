"""Bad input never crashes and never touches a file; hardware faults are never "invalid input".

Each test is one case a new user met: a plan or rig value past what the hardware or the
machine can do, a damaged data file given to ``--resume`` / ``analyze`` / ``recover``, a
device failing during pre-flight. What every case must show: no traceback, the exit code
README promises (2 input, 1 hardware fault), a message naming the file and the field, and
every file in the folder byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import SIM_RIG
from harness_cli import CliResult, run_cli
from harness_engine import TINY_PLAN, write_plan, write_rig
from harness_mutate import dump, load


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (hidden side files included) -> sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def refused(result: CliResult, code: int = 2) -> CliResult:
    assert result.escaped is None and "Traceback" not in result.err, result.describe()
    assert result.code == code, result.describe()
    return result


def plan_with(folder: Path, name: str = "plan.toml", **tables: dict[str, Any]) -> Path:
    data = tomllib.loads(TINY_PLAN.format(sweeps=1))
    for key, value in tables.items():
        data[key] = {**data.get(key, {}), **value}
    path = folder / name
    path.write_text(dump(data))
    return path


def rig_with(folder: Path, role: str, **settings: Any) -> Path:
    data = load(write_rig(folder, name="base-rig.toml"))
    data["devices"][role].update(settings)
    path = folder / "rig.toml"
    path.write_text(dump(data))
    (folder / "base-rig.toml").unlink()
    return path


@pytest.fixture(scope="module")
def finished_scan(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a real, finished tiny scan."""
    folder = tmp_path_factory.mktemp("finished")
    out = folder / "scan.h5"
    args = ["scan", str(write_plan(folder)), "--rig", str(write_rig(folder))]
    result = run_cli([*args, "--out", str(out), "--quiet"])
    assert result.code == 0, result.describe()
    return out.read_bytes()


# -- 1. delay segments whose size is absurd ----------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "field"),
    [
        ({"kind": "linear", "start": 0, "stop": 1000, "step": 1e-300}, "delays.segments[0]"),
        ({"kind": "linear", "start": 0, "stop": 1000, "count": 10**12}, "delays.segments[0]"),
        ({"kind": "log", "start": 1, "stop": 1000, "count": 10**12}, "delays.segments[0]"),
    ],
)
@pytest.mark.parametrize("check", [True, False])
def test_a_delay_segment_too_large_is_refused_before_allocating(
    tmp_path: Path, segment: dict[str, Any], field: str, check: bool
) -> None:
    plan = plan_with(tmp_path, delays={"segments": [segment]})
    rig = write_rig(tmp_path)
    before = snapshot(tmp_path)
    args = ["scan", str(plan), "--rig", str(rig), "--out", str(tmp_path / "out.h5")]
    result = refused(run_cli(args + (["--check"] if check else [])))
    assert str(plan) in result.err and any(f.startswith(field) for f in result.fields)
    assert snapshot(tmp_path) == before


# -- 2. a camera ROI outside the sensor or of no size ------------------------------------------


@pytest.mark.parametrize(
    "roi", [[224, 224, 0, -64], [224, 224, 0, 64], [-1, 0, 64, 64], [500, 500, 64, 64]]
)
def test_a_camera_roi_outside_the_sensor_is_a_rig_error(tmp_path: Path, roi: list[int]) -> None:
    rig = rig_with(tmp_path, "camera", roi=roi)
    plan = write_plan(tmp_path)
    before = snapshot(tmp_path)
    result = refused(run_cli(["devices", "--rig", str(rig)]))
    assert str(rig) in result.err and "devices.camera.roi" in result.fields
    out = tmp_path / "out.h5"
    result = refused(run_cli(["scan", str(plan), "--rig", str(rig), "--out", str(out)]))
    assert "devices.camera.roi" in result.fields
    assert snapshot(tmp_path) == before  # no scan file, no .tmp side file


# -- 3. stage travel in the wrong order ----------------------------------------------------------


def test_reversed_stage_travel_is_a_rig_error_and_keeps_an_existing_scan(
    tmp_path: Path, finished_scan: bytes
) -> None:
    rig = rig_with(tmp_path, "stage", travel_mm=[400.0, 0.0])
    plan = write_plan(tmp_path)
    out = tmp_path / "out.h5"
    out.write_bytes(finished_scan)
    before = snapshot(tmp_path)
    for extra in (["--check"], ["--overwrite"]):
        args = ["scan", str(plan), "--rig", str(rig), "--out", str(out), *extra]
        result = refused(run_cli(args))
        assert str(rig) in result.err and "devices.stage.travel_mm" in result.fields
    assert snapshot(tmp_path) == before


# -- 4. --resume never changes a file it refuses ----------------------------------------------


@pytest.mark.parametrize("damage", ["empty", "truncated", "half", "text", "header"])
def test_resume_refuses_a_damaged_file_without_changing_it(
    tmp_path: Path, finished_scan: bytes, damage: str
) -> None:
    target = tmp_path / "scan.h5"
    target.write_bytes(
        {
            "empty": b"",
            "truncated": finished_scan[:4096],
            "half": finished_scan[: len(finished_scan) // 2],
            "text": b"delay_fs,dtt\n0,1e-3\n",
            "header": finished_scan[:512],
        }[damage]
    )
    before = snapshot(tmp_path)
    result = refused(run_cli(["scan", "--resume", str(target), "--rig", str(SIM_RIG)]))
    assert str(target) in result.err
    assert "write refused" not in result.err
    assert snapshot(tmp_path) == before


def test_resume_of_a_finished_scan_changes_nothing(tmp_path: Path, finished_scan: bytes) -> None:
    target = tmp_path / "scan.h5"
    target.write_bytes(finished_scan)
    before = snapshot(tmp_path)
    result = refused(run_cli(["scan", "--resume", str(target), "--rig", str(SIM_RIG)]), code=0)
    assert "nothing to do" in result.out
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", ["missing", "folder", "devnull"])
def test_resume_of_something_that_is_no_file_is_an_input_error(tmp_path: Path, kind: str) -> None:
    target = {
        "missing": tmp_path / "nothing.h5",
        "folder": tmp_path,
        "devnull": Path("/dev/null"),
    }[kind]
    result = refused(run_cli(["scan", "--resume", str(target)]))
    assert str(target) in result.err


def test_out_onto_an_existing_file_is_an_input_error(tmp_path: Path, finished_scan: bytes) -> None:
    out = tmp_path / "scan.h5"
    out.write_bytes(finished_scan)
    plan, rig = write_plan(tmp_path), write_rig(tmp_path)
    before = snapshot(tmp_path)
    result = refused(run_cli(["scan", str(plan), "--rig", str(rig), "--out", str(out)]))
    assert "--overwrite" in result.err
    assert snapshot(tmp_path) == before


# -- 5. a device failing during pre-flight is a hardware fault -----------------------------------


@pytest.mark.parametrize("check", [True, False])
def test_a_camera_timeout_in_preflight_is_a_fault_not_a_plan_error(
    tmp_path: Path, check: bool
) -> None:
    rig = write_rig(tmp_path, faults=[{"device": "camera", "kind": "stream_stall", "on_call": 1}])
    plan = write_plan(tmp_path)
    before = snapshot(tmp_path)
    args = ["scan", str(plan), "--rig", str(rig), "--out", str(tmp_path / "out.h5")]
    result = refused(run_cli(args + (["--check"] if check else [])), code=1)
    assert "camera" in result.err and not result.fields, result.describe()
    assert str(plan) not in result.err
    assert snapshot(tmp_path) == before


# -- 6. a missing GenTL producer names the rig file ------------------------------------------------


def test_a_missing_cti_names_the_rig_file_and_field(tmp_path: Path) -> None:
    data = load(SIM_RIG)
    data["devices"]["camera"] = {"kind": "genicam.camera", "cti": str(tmp_path / "none.cti")}
    rig = tmp_path / "rig.toml"
    rig.write_text(dump(data))
    result = refused(run_cli(["devices", "--rig", str(rig)]))
    assert str(rig) in result.err and "devices.camera.cti" in result.fields


# -- 7. smaller cases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("acquisition", "pairs_per_point", 9223372036854775807),
        ("acquisition", "block_frames", 10**9),
        ("acquisition", "dark_frames", 10**12),
        ("sweeps", "count", 10**9),
        ("acquisition", "pairs_per_point", 10**7),  # 2 h camera time per point x 16 points
    ],
)
def test_acquisition_sizes_beyond_reason_are_refused(
    tmp_path: Path, table: str, key: str, value: int
) -> None:
    plan = plan_with(tmp_path, **{table: {key: value}})
    rig = write_rig(tmp_path)
    before = snapshot(tmp_path)
    args = ["scan", str(plan), "--rig", str(rig), "--out", str(tmp_path / "out.h5")]
    for extra in (["--check"], []):
        result = refused(run_cli(args + extra))
        assert str(plan) in result.err and result.fields, result.describe()
        assert any(f.startswith(table) for f in result.fields), result.describe()
    assert snapshot(tmp_path) == before


def test_a_plan_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    plan = tmp_path / "bom.toml"
    plan.write_bytes(b"\xef\xbb\xbf" + TINY_PLAN.format(sweeps=1).encode())
    rig = write_rig(tmp_path)
    result = run_cli(["scan", str(plan), "--rig", str(rig), "--check"])
    assert result.code == 0, result.describe()


def test_a_rig_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    rig = tmp_path / "bom-rig.toml"
    rig.write_bytes(b"\xef\xbb\xbf" + SIM_RIG.read_bytes())
    result = run_cli(["devices", "--rig", str(rig)])
    assert result.code == 0, result.describe()


@pytest.mark.parametrize("damage", ["half", "empty", "text"])
def test_analyze_reports_a_damaged_file(tmp_path: Path, finished_scan: bytes, damage: str) -> None:
    target = tmp_path / "scan.h5"
    target.write_bytes(
        {
            "half": finished_scan[: len(finished_scan) // 2],
            "empty": b"",
            "text": b"not a scan\n",
        }[damage]
    )
    before = snapshot(tmp_path)
    result = refused(run_cli(["analyze", str(target)]))
    assert str(target) in result.err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("damage", ["half", "empty", "text"])
def test_recover_refuses_a_damaged_file_without_changing_it(
    tmp_path: Path, finished_scan: bytes, damage: str
) -> None:
    target = tmp_path / "scan.h5"
    target.write_bytes(
        {
            "half": finished_scan[: len(finished_scan) // 2],
            "empty": b"",
            "text": b"not a scan\n",
        }[damage]
    )
    before = snapshot(tmp_path)
    result = refused(run_cli(["recover", str(target)]))
    assert str(target) in result.err
    assert snapshot(tmp_path) == before


# -- --overwrite keeps the old scan until the new one has a point; no side file is left ------


def test_overwrite_keeps_the_old_scan_until_the_new_one_stores_a_point(
    tmp_path: Path, finished_scan: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tamrig.engine.engine import ScanEngine

    monkeypatch.setattr(ScanEngine, "_backoff", lambda self, seconds: None)
    out = tmp_path / "scan.h5"
    out.write_bytes(finished_scan)
    plan = write_plan(tmp_path)
    stall = [{"device": "stage", "kind": "stall_error", "on_call": 1, "times": 1000}]
    broken = write_rig(tmp_path, faults=stall, name="broken-rig.toml")
    before = snapshot(tmp_path)
    args = ["scan", str(plan), "--out", str(out), "--overwrite", "--quiet"]
    result = refused(run_cli([*args, "--rig", str(broken)]), code=1)
    assert "stage" in result.err
    assert snapshot(tmp_path) == before  # the first point never came: old scan untouched
    result = run_cli([*args, "--rig", str(write_rig(tmp_path))])
    assert result.code == 0, result.describe()
    assert out.read_bytes() != finished_scan
    assert not list(tmp_path.glob(".*"))  # the side file became the scan


def test_a_failed_file_creation_leaves_no_side_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage_support import make_metadata

    from tamrig.storage import ScanWriter, skeleton

    def broken(*args: object, **kwargs: object) -> None:
        raise OverflowError("can't convert negative value to hsize_t")

    monkeypatch.setattr(skeleton, "build", broken)
    with pytest.raises(OverflowError):
        ScanWriter.create(tmp_path / "scan.h5", make_metadata())
    assert list(tmp_path.iterdir()) == []


# -- the end of a scan: a second Ctrl-C, a pump shutter that stays open ----------------------------


@pytest.mark.parametrize("lands_in", ["interrupted", "finish"])
def test_a_second_interrupt_while_the_scan_ends_still_leaves_a_final_status(
    sim_rig: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lands_in: str
) -> None:
    """The first Ctrl-C asks the engine to stop; the second raises KeyboardInterrupt
    wherever the engine is, here while it records the end of the scan in the file."""
    from tamrig.engine.session import start_scan
    from tamrig.plan import load_plan
    from tamrig.storage import open_scan

    out = tmp_path / "scan.h5"
    with start_scan(load_plan(write_plan(tmp_path)), out=out, rig=sim_rig) as scan:
        real = scan.writer.log_event
        pressed: list[str] = []

        def second_ctrl_c(kind: str, message: str, index: int | None = None) -> None:
            if kind == lands_in and not pressed:
                pressed.append(kind)
                raise KeyboardInterrupt("second Ctrl-C")
            real(kind, message, index)

        monkeypatch.setattr(scan.writer, "log_event", second_ctrl_c)
        scan.engine.abort("interrupted by SIGINT", kind="interrupted")
        with pytest.raises(KeyboardInterrupt):
            scan.run()
    assert pressed == [lands_in]
    with open_scan(out) as f:
        assert f.status == "aborted", [e["kind"] for e in f.events()]
        assert f.end_time


def test_a_pump_shutter_that_cannot_be_confirmed_closed_is_a_fault_event(
    sim_rig: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulators.world import World
    from tamrig.engine import PointDone
    from tamrig.engine.engine import ScanEngine
    from tamrig.engine.session import start_scan
    from tamrig.errors import DeviceFault
    from tamrig.plan import load_plan
    from tamrig.storage import open_scan

    monkeypatch.setattr(ScanEngine, "_backoff", lambda self, seconds: None)
    out = tmp_path / "scan.h5"

    def jam_the_blade(event: object) -> None:
        if isinstance(event, PointDone) and event.done == 1:
            sim_rig.pump_shutter.inject_fault("stuck", operation="close", times=None)

    plan = load_plan(write_plan(tmp_path))
    try:
        with (
            start_scan(plan, out=out, rig=sim_rig, subscribers=[jam_the_blade]) as scan,
            pytest.raises(DeviceFault, match="confirmed closed"),
        ):
            scan.run()
    finally:
        World.of(sim_rig).faults.clear()  # the blade frees up before the rig shuts down
    with open_scan(out) as f:
        events = [(e["kind"], e["message"]) for e in f.events()]
        assert f.status == "fault", events
    assert any(k == "fault" and "confirmed closed" in m for k, m in events), events
    assert not any(k == "error" for k, _ in events), events


# -- the GUI browser refuses a damaged file unchanged; a regression cannot eat the machine ---------


@pytest.mark.gui
@pytest.mark.parametrize("damage", ["half", "text", "empty"])
def test_the_browser_refuses_a_damaged_file_without_changing_it(
    qtbot: Any, tmp_path: Path, finished_scan: bytes, damage: str
) -> None:
    from tamrig.gui.browser import DataBrowser

    target = tmp_path / "scan.h5"
    target.write_bytes(
        {"half": finished_scan[: len(finished_scan) // 2], "text": b"x,y\n", "empty": b""}[damage]
    )
    before = snapshot(tmp_path)
    browser = DataBrowser(refresh_ms=50)
    qtbot.addWidget(browser)
    assert not browser.open_file(target)
    assert str(target) in browser.error.text()
    assert snapshot(tmp_path) == before


def test_absurd_segments_are_refused_under_a_memory_limit(tmp_path: Path) -> None:
    """In a process of its own with 3 GiB of address space: were a segment's delays ever
    allocated before they are counted, this would fail with MemoryError, not hang the
    machine."""
    import subprocess
    import sys

    from conftest import REPO

    plans = [
        plan_with(tmp_path, f"p{i}.toml", delays={"segments": [segment]})
        for i, segment in enumerate(
            [
                {"kind": "linear", "start": 0, "stop": 1000, "step": 1e-300},
                {"kind": "linear", "start": 0, "stop": 1000, "count": 10**12},
                {"kind": "list", "values": [0.0] * 200_000},
            ]
        )
    ]
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))\n"
        "from tamrig.cli import main\n"
        "codes = [main(['scan', p, '--rig', sys.argv[1], '--check']) for p in sys.argv[2:]]\n"
        "print(codes)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(write_rig(tmp_path)), *map(str, plans)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "[2, 2, 2]", done.stderr
    assert "delays.segments[0]" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.gui
def test_the_scan_builder_reads_a_bom_plan_and_names_bad_bytes(qtbot: Any, tmp_path: Path) -> None:
    from tamrig.gui.scan_builder import ScanBuilder

    builder = ScanBuilder()
    qtbot.addWidget(builder)
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + TINY_PLAN.format(sweeps=1).encode())
    assert builder.load(bom), builder.errors
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "caf\xe9"\n')
    assert not builder.load(latin)  # not UTF-8: a message naming the file, no traceback
    assert str(latin) in builder.error_labels["general"].text()
