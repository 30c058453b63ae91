"""GUI: what the operator relies on — state truth mid-scan, safety line, a fluence plan
built from scratch with its pre-flight estimate, presets, shortcuts, the log panel."""

from __future__ import annotations

import ast
import threading
from pathlib import Path
from typing import Any

import gui_support
import pytest

pytestmark = pytest.mark.gui
gui_settings = gui_support.gui_settings  # fixtures
window = gui_support.window

ROOT = Path(__file__).resolve().parent.parent
GUI = Path(__file__).resolve().parent.parent / "tamrig" / "gui"


def _fluence_plan_from_scratch(window: Any, tmp_path: Path, pairs: int = 24) -> Any:
    """Fill an empty builder the way an operator would: no plan file anywhere."""
    b = window.scan_panel.builder
    b.set_plan_dict({"name": "scan", "delays": {"preset": "default"}})
    b.name.setText("fluence-from-scratch")
    b.sample_fields["cross_section_cm2"].setValue(9.6)  # ×10⁻¹⁶ cm²
    b.sample_fields["pump_sigma_nm"].setValue(141.0)
    b.preset.setChecked(False)
    b.add_segment({"kind": "list", "values": [-200, 300, 1000, 3000], "unit": "fs"})
    b.fluence_unit.setCurrentText("n_abs")
    b.fluence_values.setText("0.1, 0.3")
    b.wavelengths.setText("905")
    b.pairs.setValue(pairs)
    b.block_frames.setValue(16)
    b.dark.setValue(16)
    window.scan_panel.run_control.output.setText(str(tmp_path / "fluence.h5"))
    return b


def test_a_fluence_plan_built_from_scratch_checks_estimates_and_runs(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    from tamrig.storage import open_scan

    b = _fluence_plan_from_scratch(window, tmp_path)
    panel = window.scan_panel
    assert b.request_preflight(), b.errors
    qtbot.waitUntil(lambda: panel.preflights == 1, timeout=60_000)
    assert panel.preflight_error == ""
    text = b.summary.text()
    # the same lines as `tamrig scan --check`: points, fluences, camera time, data, end
    assert "points: 8" in text and "N=0.1" in text and "µJ/cm²" in text
    assert "camera time" in text and "MiB" in text and "ends: not before" in text
    assert window.calibration is not None  # live fluence from here on
    window.show_fluence(1e-4)
    assert "µJ/cm²" in window.fluence.text() and "⟨N_abs⟩" in window.fluence.text()

    shown: list[str] = []
    panel.point_done.connect(lambda ev: shown.append(window.fluence.text()))
    assert panel.start()
    qtbot.waitUntil(lambda: not panel.running and panel.status is not None, timeout=60_000)
    assert panel.status == "finished" and len(shown) == 8
    assert all("measured" in t and "⟨N_abs⟩" in t for t in shown)
    with open_scan(tmp_path / "fluence.h5") as scan:
        assert len(scan) == 8


def test_preflight_refusal_is_shown_at_the_field(window: Any, qtbot: Any, tmp_path: Path) -> None:
    b = _fluence_plan_from_scratch(window, tmp_path)
    b.reference.setText("1e8")  # 100 ns, beyond the stage travel: only the rig can tell
    assert b.request_preflight()
    qtbot.waitUntil(lambda: window.scan_panel.preflights == 1, timeout=60_000)
    assert "delays.reference_fs" in b.errors and b.reference in b.marked
    assert "refused" in b.summary.text()


def test_pump_shutter_panel_matches_the_device_mid_scan(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    """The engine is held inside a point's acquisition (pump open, chopper scheme), then at
    a pause (pump closed): both times the panel and the safety line show the read-back."""
    b = _fluence_plan_from_scratch(window, tmp_path, pairs=400)
    rig, panel = window.rig, window.scan_panel
    pump = window.panels["pump_shutter"]
    held, release = threading.Event(), threading.Event()
    offer = window.frames.offer

    def hold_in_second_point(block: Any, source: str) -> None:
        offer(block, source)
        if window.frames.blocks_seen == 40 and not release.is_set():
            held.set()
            release.wait(60)

    window.frames.offer = hold_in_second_point  # type: ignore[method-assign]
    assert b.check() is not None and panel.start()
    qtbot.waitUntil(held.is_set, timeout=60_000)
    try:
        assert rig.pump_shutter.is_open()  # the engine is mid-acquisition
        qtbot.waitUntil(lambda: pump.state_label.text() == "OPEN", timeout=10_000)
        assert window.safety.pump_open is True and "OPEN" in window.safety.pump.text()
        assert pump.connection.text() == "● in use by the scan"
        assert "acquiring" in window.safety.interlock.text()
    finally:
        panel.pause()
        release.set()
    qtbot.waitUntil(lambda: panel.run_control.state == "paused", timeout=60_000)
    assert panel.running and not rig.pump_shutter.is_open()
    qtbot.waitUntil(lambda: pump.state_label.text() == "closed", timeout=10_000)
    assert window.safety.pump_open is False
    panel.abort()
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)


def test_space_pauses_and_resumes_escape_aborts_after_confirmation(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    from PyQt6.QtCore import Qt

    b = _fluence_plan_from_scratch(window, tmp_path, pairs=24)
    b.sweeps.setValue(50)
    window.rig.devices["camera"].world.clock.time_scale = 0.05
    panel, rc = window.scan_panel, window.scan_panel.run_control
    asked: list[str] = []
    answer = [False]

    def confirm(question: str) -> bool:
        asked.append(question)
        return answer[0]

    window.confirm = confirm
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    assert b.check() is not None and panel.start()
    qtbot.waitUntil(lambda: rc.state == "running", timeout=60_000)
    rc.buttons["abort"].setFocus()  # Space on a focused button must not press it
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: rc.state == "paused", timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: rc.state == "running", timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert len(asked) == 1 and panel.running  # "no": the scan goes on
    answer[0] = True
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    assert panel.status == "aborted" and len(asked) == 2


def test_ctrl_o_is_bound_to_open_data(window: Any) -> None:
    assert window.open_data_action.shortcut().toString() == "Ctrl+O"


def test_presets_save_and_load_through_the_settings(
    window: Any, tmp_path: Path, gui_settings: Any
) -> None:
    b = _fluence_plan_from_scratch(window, tmp_path)
    assert b.save_preset("overnight fluence series")
    assert gui_settings.preset_names() == ["overnight fluence series"]
    b.set_plan_dict({"name": "other", "delays": {"preset": "default"}})
    assert b.preset_box.findText("overnight fluence series") >= 0
    assert b.load_preset("overnight fluence series")
    assert b.plan.name == "fluence-from-scratch"
    assert b.plan.sample.cross_section_cm2 == pytest.approx(9.6e-16)
    assert b.plan.fluence is not None and b.plan.fluence.values == [0.1, 0.3]


def test_log_panel_filters_by_level_and_text(window: Any, qtbot: Any) -> None:
    log = window.log_panel
    window.log_message("info", "sweep 1 of 2 done")
    window.on_command_failed("stage: go to 900 mm", "target outside travel")
    assert any("outside travel" in line for line in log.visible_lines())
    log.level.setCurrentIndex(2)  # errors only
    lines = log.visible_lines()
    assert lines and all("error" in line for line in lines)
    log.level.setCurrentIndex(0)
    log.filter.setText("sweep")
    assert [line for line in log.visible_lines() if "sweep 1 of 2" in line]
    assert not any("outside travel" in line for line in log.visible_lines())


def test_stage_error_clears_after_a_later_successful_move(window: Any, qtbot: Any) -> None:
    panel = window.panels["stage"]
    panel.target_unit.setCurrentText("mm")
    panel.target.setValue(900.0)
    panel.go.click()
    qtbot.waitUntil(lambda: "outside travel" in panel.error.text(), timeout=10_000)
    panel.target_unit.setCurrentText("fs")
    panel.target.setValue(100.0)
    panel.go.click()
    qtbot.waitUntil(lambda: panel.error.text() == "", timeout=10_000)
    window.device_worker.request.emit("rig: refresh", lambda rig: None)
    qtbot.wait(200)
    assert panel.error.text() == ""


def test_scan_panel_does_not_import_the_main_window() -> None:
    """Signals out, wiring in the window: no import cycle between the two."""
    for name in ("scan_panel.py", "scan_session.py", "scan_builder.py", "run_control.py"):
        tree = ast.parse((GUI / name).read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        assert "tamrig.gui.main_window" not in imported, name
    assert not (GUI / "camera_tap.py").exists() and not (GUI / "live_dtt.py").exists()


def test_gui_command_passes_the_time_scale_to_the_simulated_rig(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tamrig.gui.app as app
    from tamrig.cli import main

    seen: list[Any] = []
    monkeypatch.setattr(app, "run_gui", lambda rig, overrides=None: seen.append(overrides) or 0)
    assert main(["gui", "--time-scale", "1"]) == 0
    assert seen == [{"time_scale": 1.0}]
    assert main(["gui", "--time-scale", "-1"]) == 2
    assert "--time-scale" in capsys.readouterr().err and len(seen) == 1


def test_the_time_scale_is_refused_on_a_rig_without_simulated_devices(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real rig's time cannot be scaled: say so (exit 2) before any port is opened."""
    from tamrig.cli import main
    from tamrig.rig import Rig

    connected: list[str] = []
    monkeypatch.setattr(Rig, "connect", lambda rig: connected.append(rig.loaded.path))
    lab = str(ROOT / "config" / "rigs" / "lab-example.toml")
    assert main(["gui", "--rig", lab, "--time-scale", "1"]) == 2
    err = capsys.readouterr().err
    assert "--time-scale applies to simulated devices; this rig has none" in err
    assert "lab-example.toml" in err
    assert connected == []


def test_switching_to_a_real_rig_drops_the_time_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    from tamrig.gui.app import connect_rig
    from tamrig.rig import Rig

    monkeypatch.setattr(Rig, "connect", lambda rig: None)
    rig = connect_rig(ROOT / "config" / "rigs" / "lab-example.toml", {"time_scale": 1.0})
    assert not rig.context.simulated
    assert connect_rig(None, {"time_scale": 1.0}).context.simulated


def test_dragging_the_alignment_roi_sets_the_camera_roi(window: Any, qtbot: Any) -> None:
    from tamrig.devices import Roi

    view = window.alignment_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.camera_roi is not None and view.sensor is not None, timeout=10_000)
    sensor_h, sensor_w = view.sensor
    window.set_live(True)
    qtbot.waitUntil(lambda: window.camera_worker.live, timeout=10_000)
    # the operator drags the rectangle (a drag ends with sigRegionChangeFinished)
    view.roi.setPos((10.4, 6.7), finish=False)
    view.roi.setSize((40.2, 30.0), finish=True)
    qtbot.waitUntil(lambda: window.rig.camera.config().roi == Roi(10, 7, 40, 30), timeout=10_000)
    qtbot.waitUntil(lambda: view.camera_roi == Roi(10, 7, 40, 30), timeout=10_000)
    qtbot.waitUntil(lambda: window.camera_worker.live, timeout=10_000)  # live again
    frames = view.frames_drawn
    qtbot.waitUntil(lambda: view.frames_drawn > frames + 2, timeout=10_000)
    window.clock.tick()
    assert view.image.image.shape == (30, 40)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert (round(rect.x()), round(rect.y())) == (10, 7)  # drawn where it is on the sensor
    view.request_full_sensor()
    qtbot.waitUntil(
        lambda: window.rig.camera.config().roi == Roi(0, 0, sensor_w, sensor_h), timeout=10_000
    )


def test_alignment_roi_snaps_inside_the_sensor() -> None:
    from tamrig.devices import Roi
    from tamrig.gui.alignment_view import snap_roi

    assert snap_roi(-5.2, 3.6, 20.4, 2.0, (64, 80)) == Roi(0, 4, 20, 8)
    assert snap_roi(70, 60, 30, 30, (64, 80)) == Roi(50, 34, 30, 30)


def test_the_queue_runs_two_plans_and_survives_a_restart(
    window: Any, qtbot: Any, tmp_path: Path, gui_settings: Any
) -> None:
    from tamrig.gui.queue_panel import QueuePanel
    from tamrig.storage import open_scan

    b = _fluence_plan_from_scratch(window, tmp_path)
    panel, queue = window.scan_panel, window.scan_panel.queue_panel
    assert queue.open_folder(str(tmp_path / "night"))
    b.fluence_values.setText("0.1")
    assert panel.queue_form_plan()
    b.fluence_values.setText("0.3")
    assert panel.queue_form_plan()
    assert queue.table.rowCount() == 2 and queue.table.item(1, 1).text() == "waiting"
    assert queue.start()
    qtbot.waitUntil(lambda: not queue.active and not panel.running, timeout=120_000)
    assert [e.status for e in queue.queue.entries] == ["finished", "finished"]
    for entry, n_abs in zip(queue.queue.entries, (0.1, 0.3)):
        with open_scan(entry.out) as scan:
            assert scan.status == "finished" and len(scan) == 4
            assert scan.points()["n_abs"][0] == pytest.approx(n_abs)
    # a new window finds the queue where this one left it
    assert gui_settings.queue_dir() == str((tmp_path / "night").resolve())
    again = QueuePanel()
    qtbot.addWidget(again)
    assert again.open_folder(gui_settings.queue_dir())
    assert [again.table.item(r, 1).text() for r in range(2)] == ["finished", "finished"]


def test_stage_jogs_in_mm_and_returns_to_a_bookmark(window: Any, qtbot: Any) -> None:
    from PyQt6.QtCore import Qt

    panel, stage = window.panels["stage"], window.rig.stage
    panel.target.setValue(500.0)
    panel.go.click()
    qtbot.waitUntil(lambda: abs(window.rig.delay_fs() - 500.0) < 0.01, timeout=10_000)
    qtbot.waitUntil(
        lambda: (
            panel.position_mm is not None and abs(panel.position_mm - stage.position_mm()) < 1e-9
        ),
        timeout=10_000,
    )
    assert panel.add_bookmark("near t0")
    start = stage.position_mm()
    panel.jog_unit.setCurrentText("mm")
    panel.jog_step.setValue(0.25)
    panel.jog(panel.jog_step.value())
    qtbot.waitUntil(lambda: abs(stage.position_mm() - (start + 0.25)) < 1e-6, timeout=10_000)
    panel.bookmark_box.setCurrentIndex(
        panel.bookmark_box.findText("near t0", flags=Qt.MatchFlag.MatchStartsWith)
    )
    panel.go_to_bookmark()
    qtbot.waitUntil(lambda: abs(stage.position_mm() - start) < 1e-6, timeout=10_000)
    assert "near t0" in window.settings.stage_bookmarks()


def test_time_zero_tool_scans_the_rise_fits_it_and_sets_t0(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    import shutil

    tool = window.timezero
    rig_copy = tmp_path / "rig.toml"
    shutil.copy(gui_support.SIM_RIG, rig_copy)
    tool.rig_file = str(rig_copy)
    tool.data_dir = lambda: str(tmp_path)
    tool.half_range.setValue(400.0)
    tool.step.setValue(20.0)
    tool.pairs.setValue(200)
    assert tool.start()
    qtbot.waitUntil(lambda: tool.out is None and not window.scan_panel.running, timeout=120_000)
    fit = tool.fit
    assert fit is not None and fit.ok, tool.result.text()
    # the simulated rig's zero is where its rig file says: the fit finds it within its error
    assert abs(fit.t0_fs) < 4 * fit.t0_err_fs + 30.0
    assert "t₀ =" in tool.result.text() and tool.set_button.isEnabled()
    reopened: list[str] = []
    window.rig_requested.connect(reopened.append)
    tool.confirm = lambda question: False
    assert not tool.set_time_zero() and reopened == []
    tool.confirm = lambda question: True
    assert tool.set_time_zero()
    expected = window.rig.delay_to_mm(fit.t0_fs)
    assert f"time_zero_mm = {expected:.6f}" in rig_copy.read_text()
    assert reopened == [str(rig_copy)]


def test_a_long_caption_never_resizes_the_dtt_view(qtbot: Any) -> None:
    import numpy as np

    from tamrig.gui.liveview import DttView

    view = DttView(50.0)
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    hint = view.minimumSizeHint()
    dtt = np.zeros((32, 32))
    for n in range(1, 30):  # captions of every length, as a scan's points produce them
        view.show_dtt(dtt, None, f"point {n}: " + "σ = 180.0 ± 1.5 nm · " * n)
        assert view.minimumSizeHint() == hint
        assert view.size().width() == 500
    assert "σ = 180.0" in view.info.toolTip()  # the whole text is one hover away


def test_camera_presets_are_saved_and_applied_to_the_camera(window: Any, qtbot: Any) -> None:
    from tamrig.devices import Roi

    panel, camera = window.panels["camera"], window.rig.camera
    qtbot.waitUntil(lambda: panel.roi[2].value() > 0, timeout=10_000)
    panel.exposure.setValue(2500.0)
    panel.rate.setValue(150.0)
    for box, v in zip(panel.roi, (8, 4, 48, 40)):
        box.setValue(v)
    assert panel.save_preset("small spot")
    panel.exposure.setValue(4000.0)
    assert panel.preset_box.findText("small spot") >= 0
    assert panel.apply_preset("small spot")
    qtbot.waitUntil(lambda: camera.config().roi == Roi(8, 4, 48, 40), timeout=10_000)
    assert camera.config().exposure_us == pytest.approx(2500.0, rel=0.01)
    assert "small spot" in window.settings.camera_presets()
