"""GUI: the window builds on the simulated rig, panels reflect and change device state."""

from __future__ import annotations

from typing import Any

import gui_support
import pytest

pytestmark = pytest.mark.gui
gui_settings = gui_support.gui_settings  # fixtures
window = gui_support.window


def test_window_builds_with_a_panel_per_device(window: Any) -> None:
    assert set(window.panels) == set(window.rig.devices)
    for role, panel in window.panels.items():
        assert panel.connection.text() == "● connected", role
    stage = window.last_states["stage"].values
    assert stage["delay_fs"] == pytest.approx(0.0, abs=1e-6)  # simulated stage starts at t0


def test_stage_go_to_and_jog_move_the_stage(window: Any, qtbot: Any) -> None:
    panel = window.panels["stage"]
    panel.target.setValue(1500.0)
    panel.go.click()
    qtbot.waitUntil(lambda: abs(window.rig.delay_fs() - 1500.0) < 0.01, timeout=10_000)
    qtbot.waitUntil(lambda: "1500.0 fs" in panel.delay.text(), timeout=10_000)
    panel.jog_step.setValue(250.0)
    panel.jog(-panel.jog_step.value())
    qtbot.waitUntil(lambda: abs(window.rig.delay_fs() - 1250.0) < 0.01, timeout=10_000)
    panel.target_unit.setCurrentText("mm")
    panel.target.setValue(40.0)
    panel.go.click()
    qtbot.waitUntil(lambda: abs(window.rig.stage.position_mm() - 40.0) < 1e-9, timeout=10_000)


def test_out_of_travel_move_shows_the_device_error(window: Any, qtbot: Any) -> None:
    panel = window.panels["stage"]
    panel.target_unit.setCurrentText("mm")
    panel.target.setValue(900.0)
    panel.go.click()
    qtbot.waitUntil(lambda: "outside travel" in panel.error.text(), timeout=10_000)
    assert any("outside travel" in m for m in window.messages)


def test_pump_shutter_interlocked_on_camera_acquisition(window: Any, qtbot: Any) -> None:
    pump = window.panels["pump_shutter"]
    assert not pump.open_button.isEnabled()
    pump.open()  # even if the button were pressed, the rig refuses
    qtbot.waitUntil(lambda: any("interlock" in m for m in window.messages), timeout=10_000)
    assert not window.rig.pump_shutter.is_open()

    window.panels["camera"].live_button.click()
    qtbot.waitUntil(lambda: pump.open_button.isEnabled(), timeout=10_000)
    pump.open_button.click()
    qtbot.waitUntil(lambda: pump.state_label.text() == "OPEN", timeout=10_000)
    assert window.rig.pump_shutter.is_open()

    window.panels["camera"].live_button.click()  # stopping live closes the pump first
    qtbot.waitUntil(lambda: pump.state_label.text() == "closed", timeout=10_000)
    assert not window.rig.pump_shutter.is_open()
    assert not window.rig.camera.acquiring


def test_probe_shutter_buttons(window: Any, qtbot: Any) -> None:
    probe = window.panels["probe_shutter"]
    probe.open_button.click()
    qtbot.waitUntil(lambda: probe.state_label.text() == "OPEN", timeout=10_000)
    probe.close_button.click()
    qtbot.waitUntil(lambda: probe.state_label.text() == "closed", timeout=10_000)


def test_power_meter_strip_chart_follows_the_attenuator(window: Any, qtbot: Any) -> None:
    meter = window.power_panel
    qtbot.waitUntil(lambda: len(meter.powers) >= 3, timeout=10_000)
    attenuator = window.panels["attenuator"]
    theta0 = window.rig.attenuator.settings.theta0_deg
    attenuator.target.setValue(theta0 + 45.0)  # crossed: minimum transmission
    attenuator.set_target()
    qtbot.waitUntil(lambda: window.rig.attenuator.setting() == theta0 + 45.0, timeout=10_000)
    n = len(meter.powers)
    qtbot.waitUntil(lambda: len(meter.powers) >= n + 2, timeout=10_000)
    low = meter.powers[-1]
    attenuator.target.setValue(theta0)
    attenuator.set_target()
    qtbot.waitUntil(lambda: meter.powers[-1] > 100 * low, timeout=10_000)
    assert meter.curve.getData()[1] is not None


def test_wavelength_selector_and_power_meter_settings(window: Any, qtbot: Any) -> None:
    panel = window.panels["wavelength_selector"]
    panel.choice.setCurrentIndex(panel.choice.findData(690.0))
    panel.select()
    qtbot.waitUntil(lambda: window.rig.wavelength_selector.wavelength_nm() == 690.0, timeout=10_000)
    qtbot.waitUntil(lambda: panel.current.text().startswith("690 nm"), timeout=10_000)
    meter = window.power_panel
    meter.wavelength.setValue(1500.0)  # outside the Si sensor: the device refuses
    meter.apply_settings()
    qtbot.waitUntil(lambda: "400-1100" in meter.error.text(), timeout=10_000)


def test_camera_settings_apply_only_while_stopped(window: Any, qtbot: Any) -> None:
    camera = window.panels["camera"]
    camera.exposure.setValue(2000.0)
    camera.rate.setValue(100.0)
    for box, value in zip(camera.roi, (200, 210, 96, 80)):
        box.setValue(value)
    camera.apply_settings()
    qtbot.waitUntil(lambda: window.rig.camera.config().roi.width == 96, timeout=10_000)
    config = window.rig.camera.config()
    assert (config.roi.height, config.exposure_us, config.frame_rate_hz) == (80, 2000.0, 100.0)
    camera.live_button.click()
    qtbot.waitUntil(lambda: not camera.apply_button.isEnabled(), timeout=10_000)
    qtbot.waitUntil(lambda: window.camera_view.frames_drawn >= 3, timeout=10_000)
    assert window.camera_view.image.image.shape == (80, 96)


def test_live_view_draws_frames_from_the_worker_thread(window: Any, qtbot: Any) -> None:
    window.set_live(True)
    qtbot.waitUntil(lambda: window.camera_view.frames_drawn >= 5, timeout=10_000)
    worker = window.camera_worker
    assert worker.frames_read >= window.camera_view.frames_drawn >= 5
    image = window.camera_view.image.image
    assert image.shape == (64, 64) and image.max() > image.min()
    # the display takes the newest frame on its clock: it never queues frames it cannot show
    assert window.frames.frames_seen >= worker.frames_read - 64


def test_camera_view_relevels_after_a_dark_first_frame(qtbot: Any) -> None:
    import numpy as np

    from tamrig.gui.liveview import CameraView

    view = CameraView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(1)
    view.show_frame(100 + rng.integers(0, 3, (32, 32)).astype(np.uint16), "dark")
    lo, hi = view.image.getLevels()
    assert hi < 110
    bright = 2000 + rng.integers(0, 200, (32, 32)).astype(np.uint16)
    view.show_frame(bright, "probe on")
    lo, hi = view.image.getLevels()
    assert lo <= float(np.median(bright)) <= hi and view.relevelled == 1
    view.show_frame(bright + 5, "same scene")  # within the levels: the user's levels stay
    assert view.relevelled == 1
    view.saturation = 2100.0
    view.show_frame(bright, "bright")
    assert view.saturated_pixels == int((bright >= 2100).sum()) > 0
    assert "SATURATED" in view.info.text()


def test_closing_the_window_leaves_the_rig_safe(window: Any, qtbot: Any) -> None:
    window.set_live(True)
    qtbot.waitUntil(lambda: window.panels["pump_shutter"].open_button.isEnabled(), timeout=10_000)
    window.panels["pump_shutter"].open_button.click()
    qtbot.waitUntil(lambda: window.rig.pump_shutter.is_open(), timeout=10_000)
    window.close()
    assert not window.camera_thread.thread.isRunning()
    assert not window.device_thread.thread.isRunning()
    assert not window.rig.pump_shutter.true_open()
    assert not window.rig.camera.acquiring


def test_switching_rigs_leaves_the_old_rig_safe(
    qtbot: Any, gui_settings: Any, tmp_path: Any
) -> None:
    from conftest import write_variant

    from tamrig.gui.app import GuiController, connect_rig

    controller = GuiController(
        connect_rig(gui_support.SIM_RIG, {"time_scale": 0.0}),
        gui_settings,
        overrides={"time_scale": 0.0},
        interactive=False,
    )
    first = controller.window
    other = write_variant(tmp_path, 'name = "Simulated TAM rig"', 'name = "Second rig"')
    assert controller.open_rig(str(other))
    assert not first.rig.pump_shutter.connected  # old rig safe and released
    assert controller.window.rig.settings.name == "Second rig"
    assert gui_settings.recent_rigs()[0] == str(other.resolve())

    broken = write_variant(tmp_path, "passes = 2", "passes = 0", name="broken.toml")
    assert not controller.open_rig(str(broken))
    assert "passes" in controller.errors[-1]
    assert controller.window.rig.settings.name == "Second rig"  # reconnected
    assert controller.window.rig.stage.connected
    controller.window.close()


def test_device_faults_show_in_the_panel_and_reconnect_recovers(window: Any, qtbot: Any) -> None:
    meter_panel = window.power_panel
    meter = window.rig.power_meter
    meter.inject_fault("garbage", operation="read", on_call=1)
    qtbot.waitUntil(lambda: "unparseable reply" in meter_panel.error.text(), timeout=10_000)
    assert meter.last_error is not None and "unparseable" in meter.last_error
    # the fault fired once: later readings succeed, the last error stays visible
    n = len(meter_panel.powers)
    qtbot.waitUntil(lambda: len(meter_panel.powers) > n, timeout=10_000)
    assert "last device error" in meter_panel.error.text()

    stage_panel = window.panels["stage"]
    window.rig.stage.inject_fault("disconnect", operation="position", on_call=1)
    qtbot.waitUntil(lambda: "connection lost" in stage_panel.connection.text(), timeout=10_000)
    assert stage_panel.reconnect_button.isVisibleTo(stage_panel)
    stage_panel.reconnect_button.click()
    qtbot.waitUntil(lambda: stage_panel.connection.text() == "● connected", timeout=10_000)
    assert not stage_panel.reconnect_button.isVisibleTo(stage_panel)
    stage_panel.target.setValue(300.0)
    stage_panel.go.click()
    qtbot.waitUntil(lambda: abs(window.rig.delay_fs() - 300.0) < 0.01, timeout=10_000)


def test_live_dtt_shows_the_pump_spot_with_its_fitted_width(window: Any, qtbot: Any) -> None:
    rig = window.rig
    window.camera_worker.block_frames = 512  # simulated time is free: read faster than 200 Hz
    attenuator = window.panels["attenuator"]
    attenuator.target.setValue(rig.attenuator.settings.theta0_deg)  # full pump power
    attenuator.set_target()
    window.panels["probe_shutter"].open_button.click()
    window.set_live(True)
    qtbot.waitUntil(lambda: window.panels["pump_shutter"].open_button.isEnabled(), timeout=10_000)
    window.panels["pump_shutter"].open_button.click()
    qtbot.waitUntil(lambda: rig.pump_shutter.is_open(), timeout=10_000)
    window.panels["stage"].target.setValue(200.0)  # just after time zero: a clear spot
    window.panels["stage"].go.click()
    qtbot.waitUntil(lambda: abs(rig.delay_fs() - 200.0) < 0.01, timeout=10_000)
    window.live_dtt_box.setChecked(True)
    view = window.dtt_view
    live = window.live_dtt
    qtbot.waitUntil(
        lambda: view.images_drawn >= 3 and view.last_fit is not None and live.frames >= 4000,
        timeout=30_000,
    )
    fit = view.last_fit
    world = rig.devices["camera"].world
    assert fit.sigma_nm == pytest.approx(world.pump_sigma_nm(), rel=0.25)
    h, w = view.image.image.shape
    a = rig.settings.pixel_size_nm
    assert fit.x0_nm == pytest.approx(w / 2 * a, abs=2 * a)  # the spot sits mid-sensor
    assert fit.y0_nm == pytest.approx(h / 2 * a, abs=2 * a)
    ring_x, ring_y = view.contour.getData()
    assert len(ring_x) > 10 and max(ring_y) - min(ring_y) == pytest.approx(2 * fit.sigma_nm / a)
    assert "live ΔT/T" in view.info.text()
    # the camera keeps streaming at its own pace while ΔT/T is fitted and drawn
    assert window.camera_worker.frames_read > window.dtt_view.images_drawn


def test_layout_and_last_plan_are_remembered(qtbot: Any, gui_settings: Any, tmp_path: Any) -> None:
    from tamrig.gui.app import connect_rig
    from tamrig.gui.main_window import MainWindow

    plan = tmp_path / "plan.toml"
    plan.write_text('name = "remembered"\n[delays]\npreset = "default"\n')
    first = MainWindow(connect_rig(gui_support.SIM_RIG), settings=gui_settings)
    first.show()
    first.scan_panel.builder.load(plan)
    first.device_dock.hide()
    first.close()
    second = MainWindow(connect_rig(gui_support.SIM_RIG), settings=gui_settings)
    second.show()
    try:
        qtbot.waitUntil(lambda: "stage" in second.last_states, timeout=10_000)
        assert not second.device_dock.isVisible()
        assert second.scan_panel.run_control is not None
        assert second.scan_panel.builder.name.text() == "remembered"
    finally:
        second.close()


def test_tamrig_gui_command_opens_and_closes_the_window(qtbot: Any, gui_settings: Any) -> None:
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from tamrig.cli import main

    opened: list[Any] = []

    def close_when_shown() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        mains = [w for w in windows if type(w).__name__ == "MainWindow"]
        if mains and "stage" in mains[0].last_states:
            opened.append(mains[0].rig)
            mains[0].close()
        else:
            QTimer.singleShot(50, close_when_shown)

    QTimer.singleShot(50, close_when_shown)
    assert main(["gui", "--rig", str(gui_support.SIM_RIG)]) == 0
    (rig,) = opened
    assert not rig.pump_shutter.connected  # window closed: rig safe and disconnected
    assert gui_settings.last_rig() == str(gui_support.SIM_RIG.resolve())
