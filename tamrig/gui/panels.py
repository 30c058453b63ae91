"""Device panels: each shows its device's connection, last error and readings, and sends
commands to the device worker (never calling the device from the GUI thread)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tamrig.devices import Roi
from tamrig.gui.device_worker import Action
from tamrig.gui.state import DeviceState, format_si, reconnect
from tamrig.rig import Rig

Submit = Callable[[str, Action], None]

OK_STYLE = "color: #1b7d1b; font-weight: bold"
BAD_STYLE = "color: #b01c1c; font-weight: bold"
ERROR_STYLE = "color: #b01c1c"


def _spin(lo: float, hi: float, decimals: int, suffix: str, value: float = 0.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    box.setValue(value)
    box.setKeyboardTracking(False)
    return box


class DevicePanel(QGroupBox):
    """Connection state + last error header shared by every device panel."""

    def __init__(self, role: str, submit: Submit, parent: QWidget | None = None) -> None:
        super().__init__(role.replace("_", " "), parent)
        self.role = role
        self.submit = submit
        self.state: DeviceState | None = None
        self._populated = False
        self.command_error = ""
        #: the device's last error when a command last succeeded: not shown again after
        self.acknowledged_error: str | None = None
        self.locked = False
        self.connection = QLabel("…")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.reconnect_button = QPushButton("reconnect")
        self.reconnect_button.clicked.connect(
            lambda: self.send("reconnect", lambda rig: reconnect(rig, self.role))
        )
        header = QHBoxLayout()
        header.addWidget(self.connection)
        header.addStretch(1)
        header.addWidget(self.reconnect_button)
        self.body = QFormLayout()
        outer = QVBoxLayout(self)
        outer.addLayout(header)
        outer.addWidget(self.error)
        outer.addLayout(self.body)
        self.reconnect_button.hide()
        self.controls: list[QWidget] = [self.reconnect_button]

    def send(self, label: str, action: Action) -> None:
        self.submit(f"{self.role}: {label}", action)

    def apply(self, state: DeviceState) -> None:
        self.state = state
        healthy = state.connected and not state.link_lost
        if self.locked:
            self.connection.setText("● in use by the scan")
            self.connection.setStyleSheet(OK_STYLE)
        elif healthy:
            self.connection.setText("● connected")
            self.connection.setStyleSheet(OK_STYLE)
        else:
            self.connection.setText("○ connection lost" if state.connected else "○ disconnected")
            self.connection.setStyleSheet(BAD_STYLE)
        self.reconnect_button.setVisible(not healthy)
        self._show_problem()
        if state.values:
            if not self._populated:
                self.populate(state.values)
                self._populated = True
            self.show_values(state.values)

    def command_finished(self, error: str | None) -> None:
        """Result of this panel's last command (None = it worked: older errors are cleared)."""
        self.command_error = error or ""
        if error is None and self.state is not None:
            self.acknowledged_error = self.state.last_error
        self._show_problem()

    def _show_problem(self) -> None:
        state = self.state
        lines = [self.command_error]
        if state is not None:
            lines.append(state.read_error or "")
            fresh = state.last_error != self.acknowledged_error
            if fresh and state.last_error and state.last_error not in self.command_error:
                lines.append(f"last device error: {state.last_error}")
        text = "\n".join(line for line in lines if line)
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def set_locked(self, locked: bool) -> None:
        """Disable the controls while a scan owns the rig (the read-backs go on)."""
        self.locked = locked
        for widget in self.controls:
            widget.setEnabled(not locked)
        if locked:
            self.connection.setText("● in use by the scan")

    def populate(self, values: dict[str, Any]) -> None:
        """Set the editors' ranges and initial values from the first reading."""

    def show_values(self, values: dict[str, Any]) -> None:
        """Update the read-outs (not the editors the user may be typing in)."""


class StagePanel(DevicePanel):
    """Position, go to (fs or mm), jog (fs or mm), and bookmarks of stage positions.

    Bookmarks are stage positions in mm (they stay put when time zero is re-calibrated),
    kept by ``bookmarks`` (the window's settings: ``stage_bookmarks`` / ``save_stage_bookmarks``).
    """

    def __init__(self, role: str, submit: Submit) -> None:
        super().__init__(role, submit)
        self.position = QLabel("–")
        self.delay = QLabel("–")
        self.body.addRow("position", self.position)
        self.body.addRow("delay", self.delay)
        self.jog_step = _spin(0.0001, 1e7, 4, "", 100.0)
        self.jog_unit = QComboBox()
        self.jog_unit.addItems(["fs", "mm"])
        back, forward = QPushButton("◀"), QPushButton("▶")
        back.setToolTip("jog back by the step")
        forward.setToolTip("jog forward by the step")
        back.clicked.connect(lambda: self.jog(-self.jog_step.value()))
        forward.clicked.connect(lambda: self.jog(self.jog_step.value()))
        jog = QHBoxLayout()
        jog.addWidget(back)
        jog.addWidget(self.jog_step, 1)
        jog.addWidget(self.jog_unit)
        jog.addWidget(forward)
        self.body.addRow("jog", jog)
        self.target = _spin(-1e9, 1e9, 4, "", 0.0)
        self.target_unit = QComboBox()
        self.target_unit.addItems(["fs", "mm"])
        self.go = QPushButton("go")
        self.go.clicked.connect(self.go_to)
        self.stop = QPushButton("stop")
        self.stop.clicked.connect(lambda: self.send("stop", lambda rig: rig.stage.stop()))
        goto = QHBoxLayout()
        goto.addWidget(self.target, 1)
        goto.addWidget(self.target_unit)
        goto.addWidget(self.go)
        goto.addWidget(self.stop)
        self.body.addRow("go to", goto)
        self.bookmark_box = QComboBox()
        self.bookmark_box.setPlaceholderText("bookmarks")
        mark = QPushButton("＋")
        mark.setToolTip("bookmark the current position")
        mark.clicked.connect(lambda: self.add_bookmark(self.delay.text()))
        go_mark = QPushButton("go")
        go_mark.clicked.connect(self.go_to_bookmark)
        marks = QHBoxLayout()
        marks.addWidget(self.bookmark_box, 1)
        marks.addWidget(mark)
        marks.addWidget(go_mark)
        self.body.addRow("marks", marks)
        self.bookmarks: Any = None
        self.position_mm: float | None = None
        self.controls += [
            back,
            forward,
            self.jog_step,
            self.jog_unit,
            self.target,
            self.target_unit,
            self.go,
            self.stop,
            mark,
            go_mark,
        ]

    def jog(self, step: float) -> None:
        if self.jog_unit.currentText() == "mm":

            def move_mm(rig: Rig) -> float:
                rig.stage.move_to(rig.stage.position_mm() + step)
                return rig.stage.position_mm()

            self.send(f"jog {step:+g} mm", move_mm)
            return

        def move_fs(rig: Rig) -> float:
            return rig.set_delay_fs(rig.delay_fs() + step)

        self.send(f"jog {step:+g} fs", move_fs)

    def go_to(self) -> None:
        value, unit = self.target.value(), self.target_unit.currentText()
        if unit == "mm":
            self.send(f"go to {value:g} mm", lambda rig: rig.stage.move_to(value))
        else:
            self.send(f"go to {value:g} fs", lambda rig: rig.set_delay_fs(value))

    # -- bookmarks ------------------------------------------------------------------------
    def load_bookmarks(self, store: Any) -> None:
        self.bookmarks = store
        self.bookmark_box.clear()
        for name, mm in store.stage_bookmarks().items():
            self.bookmark_box.addItem(f"{name} ({mm:.4f} mm)", (name, mm))

    def add_bookmark(self, name: str) -> bool:
        """Bookmark the stage's last read-back position under ``name``."""
        if self.position_mm is None or self.bookmarks is None or not name.strip():
            return False
        marks = dict(self.bookmarks.stage_bookmarks())
        marks[name.strip()] = self.position_mm
        self.bookmarks.save_stage_bookmarks(marks)
        self.load_bookmarks(self.bookmarks)
        self.bookmark_box.setCurrentIndex(
            self.bookmark_box.findData((name.strip(), self.position_mm))
        )
        return True

    def go_to_bookmark(self) -> None:
        data = self.bookmark_box.currentData()
        if data is None:
            return
        name, mm = data
        self.send(f"go to bookmark {name}", lambda rig: rig.stage.move_to(float(mm)))

    def show_values(self, values: dict[str, Any]) -> None:
        moving = " (moving)" if values.get("moving") else ""
        self.position_mm = float(values["position_mm"])
        self.position.setText(f"{values['position_mm']:.6f} mm{moving}")
        self.delay.setText(f"{values['delay_fs']:.1f} fs")


class ShutterPanel(DevicePanel):
    """Open/close; the pump shutter opens only through the rig's camera interlock."""

    def __init__(self, role: str, submit: Submit) -> None:
        super().__init__(role, submit)
        self.is_pump = role == "pump_shutter"
        self.state_label = QLabel("–")
        self.body.addRow("state", self.state_label)
        self.open_button = QPushButton("open")
        self.close_button = QPushButton("close")
        self.open_button.clicked.connect(self.open)
        self.close_button.clicked.connect(self.close_shutter)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.close_button)
        self.body.addRow(row)
        self.interlock = QLabel("")
        self.interlock.setWordWrap(True)
        if self.is_pump:
            self.body.addRow(self.interlock)
        self.controls += [self.open_button, self.close_button]
        self._camera_acquiring = False

    def open(self) -> None:
        if self.is_pump:
            self.send("open", lambda rig: rig.open_pump())
        else:
            self.send("open", lambda rig: rig.devices[self.role].open())  # type: ignore[attr-defined]

    def close_shutter(self) -> None:
        if self.is_pump:
            self.send("close", lambda rig: rig.close_pump())
        else:
            self.send("close", lambda rig: rig.devices[self.role].close())  # type: ignore[attr-defined]

    def set_camera_acquiring(self, acquiring: bool) -> None:
        self._camera_acquiring = acquiring
        self._refresh_interlock()

    def set_locked(self, locked: bool) -> None:
        super().set_locked(locked)
        self._refresh_interlock()

    def _refresh_interlock(self) -> None:
        if not self.is_pump or self.locked:
            return
        self.open_button.setEnabled(self._camera_acquiring)
        self.interlock.setText(
            "" if self._camera_acquiring else "interlock: opens only while the camera acquires"
        )

    def show_values(self, values: dict[str, Any]) -> None:
        is_open = bool(values["open"])
        self.state_label.setText("OPEN" if is_open else "closed")
        self.state_label.setStyleSheet(BAD_STYLE if is_open and self.is_pump else OK_STYLE)


class PowerMeterPanel(DevicePanel):
    """Reading, wavelength correction, averaging, and a strip chart of recent readings."""

    HISTORY = 600

    def __init__(self, role: str, submit: Submit) -> None:
        super().__init__(role, submit)
        self.reading = QLabel("–")
        self.reading.setStyleSheet("font-size: 14pt")
        self.body.addRow("power", self.reading)
        self.wavelength = _spin(100.0, 20000.0, 1, " nm", 580.0)
        self.averaging = QSpinBox()
        self.averaging.setRange(1, 100000)
        apply = QPushButton("apply")
        apply.clicked.connect(self.apply_settings)
        row = QHBoxLayout()
        row.addWidget(self.wavelength)
        row.addWidget(QLabel("avg"))
        row.addWidget(self.averaging)
        row.addWidget(apply)
        self.body.addRow("λ corr.", row)
        self.chart = pg.PlotWidget()
        self.chart.setMinimumHeight(110)
        self.chart.setLabel("left", "power", units="W")
        self.chart.setLabel("bottom", "time", units="s")
        self.curve = self.chart.plot(pen=pg.mkPen("#d4a017", width=1.5))
        self.body.addRow(self.chart)
        self.times: deque[float] = deque(maxlen=self.HISTORY)
        self.powers: deque[float] = deque(maxlen=self.HISTORY)
        self._t0 = time.monotonic()
        self.controls += [self.wavelength, self.averaging, apply]

    def apply_settings(self) -> None:
        wavelength, averaging = self.wavelength.value(), self.averaging.value()

        def action(rig: Rig) -> None:
            meter = rig.devices[self.role]
            meter.wavelength_nm = wavelength  # type: ignore[attr-defined]
            meter.averaging = averaging  # type: ignore[attr-defined]

        self.send(f"set {wavelength:g} nm, averaging {averaging}", action)

    def populate(self, values: dict[str, Any]) -> None:
        self.wavelength.setValue(float(values["wavelength_nm"]))
        self.averaging.setValue(int(values["averaging"]))

    def add_reading(self, power_w: float) -> None:
        self.times.append(time.monotonic() - self._t0)
        self.powers.append(power_w)
        self.reading.setText(format_si(power_w, "W", 4))
        self.curve.setData(list(self.times), list(self.powers))

    def show_values(self, values: dict[str, Any]) -> None:
        self.add_reading(float(values["power_w"]))


class AttenuatorPanel(DevicePanel):
    def __init__(self, role: str, submit: Submit) -> None:
        super().__init__(role, submit)
        self.current = QLabel("–")
        self.body.addRow("setting", self.current)
        self.target = _spin(-1e6, 1e6, 2, "", 0.0)
        go = QPushButton("set")
        go.clicked.connect(self.set_target)
        row = QHBoxLayout()
        row.addWidget(self.target)
        row.addWidget(go)
        self.body.addRow("move to", row)
        self.controls += [self.target, go]

    def populate(self, values: dict[str, Any]) -> None:
        lo, hi = values["range"]
        discrete = values["kind"] == "discrete"
        self.target.setRange(lo, hi)
        self.target.setDecimals(0 if discrete else 2)
        self.target.setSuffix(" (slot)" if discrete else " °")
        self.target.setValue(float(values["setting"]))

    def set_target(self) -> None:
        value = self.target.value()

        def action(rig: Rig) -> float:
            return rig.devices[self.role].set_setting(value)  # type: ignore[attr-defined]

        self.send(f"set {value:g}", action)

    def show_values(self, values: dict[str, Any]) -> None:
        unit = "" if values["kind"] == "discrete" else " °"
        self.current.setText(f"{values['setting']:g}{unit}")


class WavelengthPanel(DevicePanel):
    def __init__(self, role: str, submit: Submit) -> None:
        super().__init__(role, submit)
        self.current = QLabel("–")
        self.body.addRow("probe", self.current)
        self.choice = QComboBox()
        go = QPushButton("select")
        go.clicked.connect(self.select)
        row = QHBoxLayout()
        row.addWidget(self.choice)
        row.addWidget(go)
        self.body.addRow("select", row)
        self.controls += [self.choice, go]

    def populate(self, values: dict[str, Any]) -> None:
        self.choice.clear()
        for nm in values["available_nm"]:
            self.choice.addItem(f"{nm:g} nm", float(nm))
        index = self.choice.findData(float(values["wavelength_nm"]))
        self.choice.setCurrentIndex(max(index, 0))

    def select(self) -> None:
        nm = self.choice.currentData()
        if nm is None:
            return

        def action(rig: Rig) -> float:
            return rig.devices[self.role].set_wavelength_nm(float(nm))  # type: ignore[attr-defined]

        self.send(f"select {nm:g} nm", action)

    def show_values(self, values: dict[str, Any]) -> None:
        self.current.setText(f"{values['wavelength_nm']:g} nm (FWHM {values['bandwidth_nm']:g} nm)")


class CameraPanel(DevicePanel):
    """Exposure, frame rate, ROI, pixel format (only while stopped), live start/stop."""

    def __init__(self, role: str, submit: Submit, set_live: Callable[[bool], None]) -> None:
        super().__init__(role, submit)
        self.set_live = set_live
        self.status_label = QLabel("–")
        self.body.addRow("state", self.status_label)
        self.live_button = QPushButton("start live")
        self.live_button.setCheckable(True)
        self.live_button.toggled.connect(self._toggle_live)
        self.body.addRow(self.live_button)
        self.exposure = _spin(1.0, 1e7, 1, " µs", 4000.0)
        self.rate = _spin(0.01, 1e5, 2, " Hz", 100.0)
        self.pixel_format = QComboBox()
        self.pixel_format.addItems(["Mono8", "Mono12", "Mono16"])
        self.roi = [QSpinBox() for _ in range(4)]
        roi_row = QHBoxLayout()
        for name, box in zip(("x", "y", "w", "h"), self.roi):
            box.setRange(0, 100000)
            box.setPrefix(f"{name} ")
            roi_row.addWidget(box)
        self.apply_button = QPushButton("apply settings")
        self.apply_button.clicked.connect(self.apply_settings)
        self.body.addRow("exposure", self.exposure)
        self.body.addRow("frame rate", self.rate)
        self.body.addRow("format", self.pixel_format)
        self.body.addRow("ROI", roi_row)
        self.body.addRow(self.apply_button)
        self.preset_box = QComboBox()
        self.preset_box.setPlaceholderText("camera presets")
        self.preset_box.textActivated.connect(self.apply_preset)
        save_preset = QPushButton("save as…")
        save_preset.clicked.connect(self._ask_preset_name)
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_box, 1)
        preset_row.addWidget(save_preset)
        self.body.addRow("presets", preset_row)
        #: where presets live (the window's settings: camera_presets / save_camera_presets)
        self.presets: Any = None
        self.settings_widgets: list[QWidget] = [
            self.exposure,
            self.rate,
            self.pixel_format,
            *self.roi,
            self.apply_button,
            self.preset_box,
            save_preset,
        ]
        self.controls += [self.live_button, *self.settings_widgets]
        self.acquiring = False

    def _toggle_live(self, on: bool) -> None:
        self.live_button.setText("stop live" if on else "start live")
        self.set_live(on)

    def show_live(self, on: bool) -> None:
        """Reflect the worker's live state without re-triggering it."""
        self.live_button.blockSignals(True)
        self.live_button.setChecked(on)
        self.live_button.setText("stop live" if on else "start live")
        self.live_button.blockSignals(False)

    def populate(self, values: dict[str, Any]) -> None:
        self.exposure.setValue(float(values["exposure_us"]))
        self.rate.setValue(float(values["frame_rate_hz"]))
        self.pixel_format.setCurrentText(str(values["pixel_format"]))
        for box, v in zip(self.roi, values["roi"]):
            box.setValue(int(v))

    def apply_settings(self) -> None:
        roi = Roi(*(box.value() for box in self.roi))
        exposure, rate, fmt = (
            self.exposure.value(),
            self.rate.value(),
            self.pixel_format.currentText(),
        )

        def action(rig: Rig) -> Any:
            return rig.camera.configure(
                roi=roi,
                exposure_us=exposure,
                frame_rate_hz=rate,
                pixel_format=fmt,  # type: ignore[arg-type]
            )

        self.send("configure", action)
        self._populated = False  # show what the camera actually took

    # -- presets (exposure, frame rate, format, ROI by name) ------------------------------
    def editor_values(self) -> dict[str, Any]:
        return {
            "exposure_us": self.exposure.value(),
            "frame_rate_hz": self.rate.value(),
            "pixel_format": self.pixel_format.currentText(),
            "roi": [box.value() for box in self.roi],
        }

    def load_presets(self, store: Any) -> None:
        self.presets = store
        self.preset_box.clear()
        self.preset_box.addItems(sorted(store.camera_presets()))
        self.preset_box.setCurrentIndex(-1)

    def save_preset(self, name: str) -> bool:
        """Keep the editors' settings as the preset ``name``."""
        if self.presets is None or not name.strip():
            return False
        presets = dict(self.presets.camera_presets())
        presets[name.strip()] = self.editor_values()
        self.presets.save_camera_presets(presets)
        self.load_presets(self.presets)
        return True

    def apply_preset(self, name: str) -> bool:
        """Fill the editors from the preset and send the settings to the camera."""
        preset = self.presets.camera_presets().get(name) if self.presets is not None else None
        if not preset:
            return False
        self.exposure.setValue(float(preset["exposure_us"]))
        self.rate.setValue(float(preset["frame_rate_hz"]))
        self.pixel_format.setCurrentText(str(preset["pixel_format"]))
        for box, v in zip(self.roi, preset["roi"]):
            box.setValue(int(v))
        self.apply_settings()
        return True

    def _ask_preset_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Camera preset", "preset name")
        if ok:
            self.save_preset(name)

    def show_values(self, values: dict[str, Any]) -> None:
        self.acquiring = bool(values["acquiring"])
        _, _, w, h = values["roi"]
        self.status_label.setText(
            f"{'ACQUIRING' if self.acquiring else 'stopped'} · {w}×{h} @ "
            f"{values['frame_rate_hz']:g} Hz · dropped {values['dropped_frames']}"
        )
        for widget in self.settings_widgets:
            widget.setEnabled(not self.acquiring and self.live_button.isEnabled())


PANELS: dict[str, type[DevicePanel]] = {
    "stage": StagePanel,
    "shutter": ShutterPanel,
    "power_meter": PowerMeterPanel,
    "attenuator": AttenuatorPanel,
    "wavelength_selector": WavelengthPanel,
}


def make_panel(
    role: str, family: str, submit: Submit, set_live: Callable[[bool], None]
) -> DevicePanel:
    """The panel for a device family (a plain status panel for unknown families)."""
    if family == "camera":
        return CameraPanel(role, submit, set_live)
    return PANELS.get(family, DevicePanel)(role, submit)
