"""GUI: a demo scan through the window — start, pause, resume, abort, fault banner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gui_support
import pytest

pytestmark = pytest.mark.gui
gui_settings = gui_support.gui_settings  # fixtures
window = gui_support.window

PLAN = """
name = "gui-test"
[sample]
cross_section_cm2 = 9.6e-16
pump_sigma_nm = 141.0
[delays]
segments = [
  {{ kind = "linear", start = -50, stop = 50, step = 25 }},
  {{ kind = "log", start = 0.2, stop = 20, count = {n_log}, unit = "ps" }},
]
[fluence]
unit = "n_abs"
values = [0.2]
[probe]
wavelengths_nm = [905.0]
[sweeps]
count = {sweeps}
[acquisition]
pairs_per_point = {pairs}
block_frames = 32
dark_frames = 16
"""


def _load(
    window: Any, tmp_path: Path, *, n_log: int = 4, sweeps: int = 1, pairs: int = 100
) -> Path:
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(n_log=n_log, sweeps=sweeps, pairs=pairs))
    panel = window.scan_panel
    assert panel.builder.load(plan), panel.builder.errors
    out = tmp_path / "scan.h5"
    panel.run_control.output.setText(str(out))
    return out


def _paced(window: Any, time_scale: float = 0.05) -> None:
    """Let simulated time run at a fraction of real time, so a long scan produces points
    at a human pace: at time scale 0 it floods the window with thousands of events, which
    a heavily loaded machine cannot draw before the test's deadline."""
    window.rig.devices["camera"].world.clock.time_scale = time_scale


def _count(window: Any, kind: str) -> int:
    return int(window.scan_panel.counts[kind])


def _last(window: Any, kind: str) -> Any:
    return next((e for e in reversed(window.scan_panel.recent) if type(e).__name__ == kind), None)


def _records(window: Any) -> list[Any]:
    """Every PointDone's record, collected by the test (the panel keeps none)."""
    records: list[Any] = []
    window.scan_panel.point_done.connect(lambda ev: records.append(ev.record))
    return records


def _idle(window: Any) -> bool:
    session = window.scan_panel.session
    return window.scan_panel.run_control.state == "idle" and not session.running


def test_demo_scan_runs_to_the_end_and_fills_the_views(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    from tamrig.storage import open_scan

    out = _load(window, tmp_path)
    panel, rc = window.scan_panel, window.scan_panel.run_control
    records = _records(window)
    assert panel.start()
    qtbot.waitUntil(lambda: window.panels["stage"].go.isEnabled() is False, timeout=10_000)
    assert window.panels["stage"].connection.text() == "● in use by the scan"
    qtbot.waitUntil(lambda: _idle(window), timeout=60_000)
    window.clock.tick()  # draw what the last events marked dirty
    assert _count(window, "Finished") == 1
    finished = _last(window, "Finished")
    assert finished.status == "finished" and finished.done == finished.total == 9
    assert _count(window, "PointDone") == len(records) == 9
    assert rc.progress.value() == 1000 and "finished" in rc.state_label.text()
    assert "pump shutter closed" in rc.state_label.text()
    # live views were fed by the engine's events: ΔT/T with its fit, transport per series;
    # redraws are coalesced to the display clock, so fewer draws than points is right
    assert 1 <= window.dtt_view.images_drawn <= 9 and window.dtt_view.last_fit is not None
    last = records[-1]  # 20 ps: wider than the pump's 141 nm
    assert last.fit is not None and 141.0 < last.fit.sigma_nm < 250.0
    assert window.analysis.n_points("905nm/N=0.2") >= 6
    _, msd = window.analysis.series["905nm/N=0.2"].items["msd"][0].getData()
    assert len(msd) >= 3  # positive delays with a positive MSD, on the log-log plot
    # camera frames reached the view through the engine's BlockAcquired events
    assert window.frames.blocks_seen > 0 and window.camera_view.frames_drawn > 0
    assert not any(type(e).__name__ == "PointDone" for e in panel.recent)  # no images kept
    assert window.panels["stage"].go.isEnabled()  # panels unlocked again
    assert not window.rig.pump_shutter.is_open()
    with open_scan(out) as scan:
        assert scan.status == "finished" and len(scan) == 9
    window.tabs.setCurrentWidget(window.data_tab)  # the browser is built on first use
    assert window.browser.open_file(out) and window.browser.table.rowCount() == 9
    assert window.browser.selected_index == last.index
    assert window.settings.last_plan() == str((tmp_path / "plan.toml").resolve())


def test_pause_resume_and_abort(window: Any, qtbot: Any, tmp_path: Path) -> None:
    from tamrig.storage import open_scan

    out = _load(window, tmp_path, n_log=300, sweeps=5, pairs=24)
    _paced(window)
    panel, rc = window.scan_panel, window.scan_panel.run_control
    assert panel.start()
    qtbot.waitUntil(lambda: _count(window, "PointDone") >= 2, timeout=60_000)
    rc.buttons["pause"].click()
    qtbot.waitUntil(lambda: rc.state == "paused", timeout=60_000)
    assert rc.buttons["resume"].isEnabled() and not rc.buttons["pause"].isEnabled()
    assert not window.rig.pump_shutter.is_open()  # paused: pump closed
    n_paused = _count(window, "PointDone")
    rc.buttons["resume"].click()
    qtbot.waitUntil(lambda: _count(window, "PointDone") >= n_paused + 2, timeout=60_000)
    assert _count(window, "Resumed") == 1
    rc.buttons["abort"].click()
    qtbot.waitUntil(lambda: _idle(window), timeout=60_000)
    finished = _last(window, "Finished")
    assert finished.status == "aborted" and finished.done < finished.total
    assert "aborted" in rc.state_label.text()
    assert rc.eta.text() == "–"  # no time left to show after an abort
    assert not window.rig.pump_shutter.is_open()
    with open_scan(out) as scan:
        assert scan.status == "aborted" and len(scan) == finished.done


def test_device_fault_shows_a_banner_with_the_rig_safe(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    _load(window, tmp_path, pairs=24)
    panel, rc = window.scan_panel, window.scan_panel.run_control
    panel.engine_options = {"max_retries": 1, "retry_backoff_s": 0.0}
    # the stage stalls on every move from the 3rd on: retries run out, the scan pauses
    window.rig.stage.inject_fault("stall_error", operation="move", on_call=3, times=None)
    assert panel.start()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=60_000)
    assert window.banner.device == "stage"
    assert "stall" in window.banner.message.lower() or window.banner.message
    assert "safe state" in window.banner.text.text()
    qtbot.waitUntil(lambda: rc.state == "paused", timeout=60_000)
    assert not window.rig.pump_shutter.is_open()
    fault = _last(window, "Fault")
    assert fault.fatal and fault.device == "stage"
    assert "stage" in window.safety.fault.text() and window.safety.active_fault
    assert any("stage" in m for m in window.messages)  # and in the log
    rc.buttons["abort"].click()
    qtbot.waitUntil(lambda: _idle(window), timeout=60_000)
    assert window.banner.isVisible()  # stays until the operator dismisses it
    assert not window.rig.pump_shutter.is_open()


def test_plan_errors_stop_the_start_at_the_field(window: Any, qtbot: Any, tmp_path: Path) -> None:
    _load(window, tmp_path)
    panel = window.scan_panel
    panel.builder.reference.setText(
        "1e8"
    )  # 100 ns, far beyond the stage travel: pre-flight refuses
    assert panel.start()  # the form is valid; the rig check happens in the scan thread
    qtbot.waitUntil(lambda: _idle(window), timeout=60_000)
    assert "delays.reference_fs" in panel.builder.errors
    assert panel.builder.reference in panel.builder.marked
    assert "not started" in panel.run_control.state_label.text()
    panel.builder.segments.item(0, 2).setText("oops")
    assert not panel.start()
    assert "delays.segments[0].stop" in panel.builder.errors


def test_closing_the_window_mid_scan_aborts_and_leaves_the_rig_safe(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    from tamrig.storage import open_scan

    out = _load(window, tmp_path, n_log=300, sweeps=5, pairs=24)
    _paced(window)
    assert window.scan_panel.start()
    qtbot.waitUntil(lambda: _count(window, "PointDone") >= 2, timeout=60_000)
    rig = window.rig
    window.close()
    assert not window.scan_panel.session.running
    assert not rig.pump_shutter.connected and not rig.pump_shutter.true_open()
    with open_scan(out) as scan:
        assert scan.status == "aborted" and len(scan) >= 2
