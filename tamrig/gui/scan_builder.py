"""Scan builder: edit a scan plan, preview its delay grid, load/save TOML, check it.

The form edits every field of the plan's TOML structure (``tamrig.plan``;
``config/scans/template.toml`` documents it); keys it does not know (sample metadata, extra
segment keys) are kept from the loaded file. Problems are shown at the field: a PlanError's
field path selects the widget (or table cell) to mark. Named presets are plans kept in the
window's settings.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import tomli_w
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tamrig.errors import InputError, PlanError
from tamrig.plan import ScanPlan, plan_from_dict
from tamrig.validation import load_toml

ERROR_STYLE = "border: 2px solid #b01c1c; background: #fde8e8"
SEGMENT_COLUMNS = ("kind", "start", "stop", "step", "count", "unit", "values")
UNITS = ("fs", "ps", "ns")
NESTINGS = [list(p) for p in itertools.permutations(("wavelength", "fluence", "sweep"))]
DEFAULT_PLAN: dict[str, Any] = {
    "name": "scan",
    "delays": {"preset": "default"},
    "sweeps": {"count": 1, "order": "forward"},
}


def parse_numbers(text: str) -> list[float]:
    """``"905, 690"`` -> [905.0, 690.0]; raises ValueError naming the bad item."""
    out = []
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(float(item))
        except ValueError:
            raise ValueError(f"{item!r} is not a number") from None
    return out


def drop_none(value: Any) -> Any:
    """TOML has no null: leave unset keys out."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


class FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ScanBuilder(QWidget):
    #: a valid plan is ready (after every successful check)
    plan_changed = pyqtSignal(object)
    #: a plan file was loaded or saved
    file_used = pyqtSignal(str)
    #: the operator asked for the rig's pre-flight and estimate of this (form-valid) plan
    preflight_requested = pyqtSignal(object)

    def __init__(self, parent: QWidget | None = None, presets: Any = None) -> None:
        super().__init__(parent)
        #: where named presets live (GuiSettings: preset_names / preset / save_preset)
        self.presets = presets
        self.base: dict[str, Any] = copy.deepcopy(DEFAULT_PLAN)
        self.plan: ScanPlan | None = None
        self.path: str | None = None
        self.field_widgets: dict[str, QWidget] = {}
        self.error_labels: dict[str, QLabel] = {}
        self.marked: list[QWidget | QTableWidgetItem] = []
        self.errors: dict[str, str] = {}
        self.grid_fs: list[float] = []
        self._build()
        self.set_plan_dict(self.base)

    # -- layout ----------------------------------------------------------------------------
    def _section(self, title: str, key: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        label = QLabel("")
        label.setStyleSheet("color: #b01c1c")
        label.setWordWrap(True)
        label.hide()
        form.addRow(label)
        self.error_labels[key] = label
        return box, form

    def _build(self) -> None:
        files = QHBoxLayout()
        for text, slot in (
            ("load…", self.choose_load),
            ("save…", self.choose_save),
            ("check on the rig", self.request_preflight),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            files.addWidget(button)
        self.file_label = QLabel("(new plan)")

        self.preset_box = QComboBox()
        self.preset_box.setPlaceholderText("presets")
        self.preset_box.textActivated.connect(self.load_preset)
        save_preset = QPushButton("save as preset…")
        save_preset.clicked.connect(self.choose_preset_name)
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_box, 1)
        preset_row.addWidget(save_preset)

        general, gform = self._section("Plan", "general")
        self.name = QLineEdit()
        self.description = QLineEdit()
        gform.addRow("name", self.name)
        gform.addRow("description", self.description)
        self.field_widgets.update({"name": self.name, "description": self.description})

        sample, sform = self._section("Sample", "sample")
        self.sample_name = QLineEdit()
        self.sample_fields: dict[str, QDoubleSpinBox] = {}
        sform.addRow("name", self.sample_name)
        for key, label, suffix, decimals in (
            ("cross_section_cm2", "cross-section", " cm²", 20),
            ("pump_sigma_nm", "pump σ", " nm", 1),
            ("pbs_diameter_nm", "PbS diameter", " nm", 2),
            ("pbs_exciton_nm", "PbS exciton", " nm", 1),
            ("absorbance_ratio", "absorbance ratio", "", 4),
        ):
            box = QDoubleSpinBox()
            box.setDecimals(decimals)
            box.setRange(0.0, 1e9)
            box.setSuffix(suffix)
            box.setSpecialValueText("not set")  # 0 = not set (every one must be > 0)
            if key == "cross_section_cm2":
                box.setDecimals(3)
                box.setRange(0.0, 1e6)
                box.setSuffix(" ×10⁻¹⁶ cm²")
            sform.addRow(label, box)
            self.sample_fields[key] = box
            self.field_widgets[f"sample.{key}"] = box
        self.field_widgets["sample"] = self.sample_name
        self.field_widgets["sample.name"] = self.sample_name

        delays, dform = self._section("Delays", "delays")
        self.preset = QCheckBox("default grid (112 points, −1 ps … 2 ns)")
        self.segments = QTableWidget(0, len(SEGMENT_COLUMNS))
        self.segments.setHorizontalHeaderLabels(list(SEGMENT_COLUMNS))
        self.segments.setMinimumHeight(110)
        header = self.segments.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.segments.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        add, remove = QPushButton("+ segment"), QPushButton("− segment")
        add.clicked.connect(lambda: self.add_segment({"kind": "log"}))
        remove.clicked.connect(self.remove_segment)
        seg_buttons = QHBoxLayout()
        seg_buttons.addWidget(add)
        seg_buttons.addWidget(remove)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("none")
        self.preview = pg.PlotWidget()
        self.preview.setMinimumHeight(90)
        self.preview.setMaximumHeight(140)
        self.preview.setLogMode(x=True, y=False)
        self.preview.setLabel("bottom", "delay (fs, log; ≤ 0 not shown)")
        self.preview.hideAxis("left")
        # a PlotDataItem (not a bare scatter item) so the axis' log mode applies to it
        self.preview_points = self.preview.plot(
            [], [], pen=None, symbol="o", symbolSize=6, symbolBrush="#2e86de"
        )
        self.grid_label = QLabel("")
        dform.addRow(self.preset)
        dform.addRow(self.segments)
        dform.addRow(seg_buttons)
        dform.addRow("reference (fs)", self.reference)
        dform.addRow(self.preview)
        dform.addRow(self.grid_label)
        self.field_widgets.update(
            {
                "delays": self.segments,
                "delays.preset": self.preset,
                "delays.segments": self.segments,
                "delays.reference_fs": self.reference,
            }
        )

        axes, aform = self._section("Fluence, wavelength, sweeps", "axes")
        self.fluence_unit = QComboBox()
        self.fluence_unit.addItems(["none", "uJ/cm2", "n_abs", "setting"])
        self.fluence_values = QLineEdit()
        self.fluence_values.setPlaceholderText("e.g. 0.05, 0.2, 1")
        frow = QHBoxLayout()
        frow.addWidget(self.fluence_unit)
        frow.addWidget(self.fluence_values, 1)
        self.wavelengths = QLineEdit()
        self.wavelengths.setPlaceholderText("leave the selector as it is")
        self.sweeps = QSpinBox()
        self.sweeps.setRange(1, 10000)
        self.order = QComboBox()
        self.order.addItems(["forward", "alternating", "random"])
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("seed of the 'random' delay order (reproducible)")
        self.nesting = QComboBox()
        for nesting in NESTINGS:
            self.nesting.addItem(" > ".join(nesting) + " > delay", nesting)
        aform.addRow("fluence", frow)
        aform.addRow("probe λ (nm)", self.wavelengths)
        aform.addRow("sweeps", self.sweeps)
        aform.addRow("delay order", self.order)
        aform.addRow("random seed", self.seed)
        aform.addRow("nesting", self.nesting)
        self.field_widgets.update(
            {
                "fluence": self.fluence_values,
                "fluence.unit": self.fluence_unit,
                "fluence.values": self.fluence_values,
                "probe": self.wavelengths,
                "probe.wavelengths_nm": self.wavelengths,
                "sweeps": self.sweeps,
                "sweeps.count": self.sweeps,
                "sweeps.order": self.order,
                "sweeps.seed": self.seed,
                "nesting": self.nesting,
            }
        )

        acq, qform = self._section("Acquisition", "acquisition")
        self.scheme = QComboBox()
        self.scheme.addItems(["chopper", "shutter"])
        self.pairs = QSpinBox()
        self.pairs.setRange(2, 10_000_000)
        self.dark = QSpinBox()
        self.dark.setRange(0, 1_000_000)
        self.block_frames = QSpinBox()
        self.block_frames.setRange(2, 1_000_000)
        self.settle = QSpinBox()
        self.settle.setRange(0, 1_000_000)
        self.measure_power = QCheckBox("read the power meter at every point")
        self.normalise = QCheckBox("normalise each frame to the probe (image border)")
        self.raw_frames = QCheckBox("store every raw frame (large!)")
        qform.addRow("scheme", self.scheme)
        qform.addRow("pairs / point", self.pairs)
        qform.addRow("frames / read", self.block_frames)
        qform.addRow("dark frames", self.dark)
        qform.addRow("settle frames", self.settle)
        qform.addRow(self.measure_power)
        qform.addRow(self.normalise)
        qform.addRow(self.raw_frames)
        self.field_widgets.update(
            {
                "acquisition": self.pairs,
                "acquisition.scheme": self.scheme,
                "acquisition.pairs_per_point": self.pairs,
                "acquisition.block_frames": self.block_frames,
                "acquisition.dark_frames": self.dark,
                "acquisition.settle_frames": self.settle,
                "acquisition.measure_power": self.measure_power,
                "acquisition.normalise": self.normalise,
                "acquisition.record_raw_frames": self.raw_frames,
            }
        )
        self.summary = QLabel("")
        self.summary.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(files)
        layout.addLayout(preset_row)
        layout.addWidget(self.file_label)
        layout.addWidget(self.summary)
        for group in (general, sample, delays, axes, acq):
            layout.addWidget(group)
        layout.addStretch(1)
        self.section_of = {
            "name": "general",
            "sample": "sample",
            "description": "general",
            "delays": "delays",
            "fluence": "axes",
            "probe": "axes",
            "sweeps": "axes",
            "nesting": "axes",
            "acquisition": "acquisition",
        }

    # -- segments table --------------------------------------------------------------------
    def add_segment(self, segment: dict[str, Any]) -> None:
        row = self.segments.rowCount()
        self.segments.insertRow(row)
        kind = QComboBox()
        kind.addItems(["linear", "log", "list"])
        kind.setCurrentText(str(segment.get("kind", "linear")))
        # keys the table has no column for (e.g. include_start) ride along with the row
        extra = {k: v for k, v in segment.items() if k not in SEGMENT_COLUMNS}
        kind.setProperty("extra", json.dumps(extra))
        unit = QComboBox()
        unit.addItems(list(UNITS))
        unit.setCurrentText(str(segment.get("unit", "fs")))
        self.segments.setCellWidget(row, 0, kind)
        self.segments.setCellWidget(row, 5, unit)
        for col, key in enumerate(SEGMENT_COLUMNS):
            if key in ("kind", "unit"):
                continue
            value = segment.get(key)
            if key == "values" and value is not None:
                text = ", ".join(f"{v:g}" for v in value)
            else:
                text = "" if value is None else f"{value:g}"
            self.segments.setItem(row, col, QTableWidgetItem(text))

    def remove_segment(self) -> None:
        rows = sorted({i.row() for i in self.segments.selectedIndexes()}, reverse=True)
        for row in rows or [self.segments.rowCount() - 1]:
            if row >= 0:
                self.segments.removeRow(row)

    def _segment(self, row: int) -> dict[str, Any]:
        field = f"delays.segments[{row}]"
        kind_box = self.segments.cellWidget(row, 0)
        unit_box = self.segments.cellWidget(row, 5)
        assert isinstance(kind_box, QComboBox) and isinstance(unit_box, QComboBox)
        segment: dict[str, Any] = json.loads(kind_box.property("extra") or "{}")
        segment.update(kind=kind_box.currentText(), unit=unit_box.currentText())
        for col, key in enumerate(SEGMENT_COLUMNS):
            item = self.segments.item(row, col)
            text = item.text().strip() if item is not None else ""
            if key in ("kind", "unit") or not text:
                continue
            try:
                if key == "values":
                    segment[key] = parse_numbers(text)
                elif key == "count":
                    segment[key] = int(text)
                else:
                    segment[key] = float(text)
            except ValueError as exc:
                raise FieldError(f"{field}.{key}", f"invalid {key}: {exc}") from None
        return segment

    # -- plan <-> form ---------------------------------------------------------------------
    def set_plan_dict(self, data: dict[str, Any]) -> None:
        """Fill the form from a plan mapping (a parsed TOML file)."""
        self.base = copy.deepcopy(data)
        self.name.setText(str(data.get("name", "scan")))
        self.description.setText(str(data.get("description", "")))
        sample = data.get("sample", {})
        self.sample_name.setText(str(sample.get("name", "")))
        for key, box in self.sample_fields.items():
            value = sample.get(key)
            scale = 1e16 if key == "cross_section_cm2" else 1.0
            box.setValue(0.0 if value is None else float(value) * scale)
        delays = data.get("delays", {})
        self.preset.setChecked(delays.get("preset") == "default")
        self.segments.setRowCount(0)
        for segment in delays.get("segments", []):
            self.add_segment(segment)
        ref = delays.get("reference_fs")
        self.reference.setText("" if ref is None else f"{ref:g}")
        fluence = data.get("fluence")
        self.fluence_unit.setCurrentText(fluence["unit"] if fluence else "none")
        self.fluence_values.setText(
            ", ".join(f"{v:g}" for v in fluence.get("values", [])) if fluence else ""
        )
        probe = data.get("probe")
        self.wavelengths.setText(
            ", ".join(f"{v:g}" for v in probe.get("wavelengths_nm", [])) if probe else ""
        )
        sweeps = data.get("sweeps", {})
        self.sweeps.setValue(int(sweeps.get("count", 1)))
        self.order.setCurrentText(str(sweeps.get("order", "forward")))
        self.seed.setValue(int(sweeps.get("seed", 0)))
        nesting = list(data.get("nesting", ["wavelength", "fluence", "sweep"]))
        index = self.nesting.findData(nesting)
        self.nesting.setCurrentIndex(max(index, 0))
        acq = data.get("acquisition", {})
        self.scheme.setCurrentText(str(acq.get("scheme", "chopper")))
        self.pairs.setValue(int(acq.get("pairs_per_point", 500)))
        self.dark.setValue(int(acq.get("dark_frames", 200)))
        self.measure_power.setChecked(bool(acq.get("measure_power", True)))
        self.block_frames.setValue(int(acq.get("block_frames", 64)))
        self.settle.setValue(int(acq.get("settle_frames", 1)))
        self.normalise.setChecked(bool(acq.get("normalise", True)))
        self.raw_frames.setChecked(bool(acq.get("record_raw_frames", False)))

    def plan_dict(self) -> dict[str, Any]:
        """The plan mapping the form describes (raises FieldError for unparseable text)."""
        data = copy.deepcopy(self.base)
        data["name"] = self.name.text().strip()
        data["description"] = self.description.text().strip()
        sample = dict(data.get("sample", {}))
        sample["name"] = self.sample_name.text().strip()
        for key, box in self.sample_fields.items():
            scale = 1e-16 if key == "cross_section_cm2" else 1.0
            sample[key] = box.value() * scale if box.value() > 0 else None
        data["sample"] = sample
        delays: dict[str, Any] = {}
        if self.preset.isChecked():
            delays["preset"] = "default"
        segments = [self._segment(row) for row in range(self.segments.rowCount())]
        if segments:
            delays["segments"] = segments
        if self.reference.text().strip():
            try:
                delays["reference_fs"] = float(self.reference.text())
            except ValueError:
                raise FieldError("delays.reference_fs", "reference delay is not a number") from None
        data["delays"] = delays
        unit = self.fluence_unit.currentText()
        if unit == "none":
            data.pop("fluence", None)
        else:
            try:
                values = parse_numbers(self.fluence_values.text())
            except ValueError as exc:
                raise FieldError("fluence.values", str(exc)) from None
            data["fluence"] = {"unit": unit, "values": values}
        if self.wavelengths.text().strip():
            try:
                data["probe"] = {"wavelengths_nm": parse_numbers(self.wavelengths.text())}
            except ValueError as exc:
                raise FieldError("probe.wavelengths_nm", str(exc)) from None
        else:
            data.pop("probe", None)
        sweeps = dict(data.get("sweeps", {}))
        sweeps.update(
            count=self.sweeps.value(), order=self.order.currentText(), seed=self.seed.value()
        )
        data["sweeps"] = sweeps
        data["nesting"] = list(self.nesting.currentData())
        acq = dict(data.get("acquisition", {}))
        acq.update(
            scheme=self.scheme.currentText(),
            pairs_per_point=self.pairs.value(),
            dark_frames=self.dark.value(),
            measure_power=self.measure_power.isChecked(),
            block_frames=self.block_frames.value(),
            settle_frames=self.settle.value(),
            normalise=self.normalise.isChecked(),
            record_raw_frames=self.raw_frames.isChecked(),
        )
        data["acquisition"] = acq
        return data

    # -- checking and errors ---------------------------------------------------------------
    def clear_errors(self) -> None:
        for target in self.marked:
            if isinstance(target, QTableWidgetItem):
                target.setBackground(pg.mkBrush(None))
                target.setToolTip("")
            else:
                target.setStyleSheet("")
                target.setToolTip("")
        self.marked.clear()
        self.errors.clear()
        for label in self.error_labels.values():
            label.hide()

    def show_error(self, field: str, message: str) -> None:
        """Mark the widget (or segment cell) of ``field`` and show the message in its box."""
        self.errors[field] = message
        head = field.split(".", 1)[0].split("[", 1)[0]
        label = self.error_labels[self.section_of.get(head, "general")]
        label.setText(f"{field}: {message}")
        label.show()
        if field.startswith("delays.segments["):
            row_text, _, key = field[len("delays.segments[") :].partition("]")
            row, key = int(row_text), key.lstrip(".").split(".", 1)[0]
            cols = [SEGMENT_COLUMNS.index(key)] if key in SEGMENT_COLUMNS else range(7)
            for col in cols:
                item = self.segments.item(row, col)
                if item is None:
                    widget = self.segments.cellWidget(row, col)
                    if widget is not None:
                        widget.setStyleSheet(ERROR_STYLE)
                        self.marked.append(widget)
                    continue
                item.setBackground(pg.mkBrush("#fde8e8"))
                item.setToolTip(message)
                self.marked.append(item)
            return
        parts = field.split(".")
        for n in range(len(parts), 0, -1):
            widget = self.field_widgets.get(".".join(parts[:n]))
            if widget is not None:
                widget.setStyleSheet(ERROR_STYLE)
                widget.setToolTip(message)
                self.marked.append(widget)
                return

    def check(self) -> ScanPlan | None:
        """Validate the form; on success update the preview and emit ``plan_changed``."""
        self.clear_errors()
        try:
            data = self.plan_dict()
            plan = plan_from_dict(data, source=self.path)
        except FieldError as exc:
            self.show_error(exc.field, exc.message)
            self.plan = None
            return None
        except PlanError as exc:
            message = exc.detail + (f" (expected {exc.expected})" if exc.expected else "")
            self.show_error(exc.field or "name", message)
            self.plan = None
            return None
        self.plan = plan
        self.update_preview(plan)
        self.plan_changed.emit(plan)
        return plan

    def request_preflight(self) -> bool:
        plan = self.check()
        if plan is not None:
            self.preflight_requested.emit(plan)
        return plan is not None

    def show_plan_error(self, exc: InputError) -> None:
        """A pre-flight error against the rig (raised at start), shown at its field."""
        self.clear_errors()
        message = exc.detail + (f" (expected {exc.expected})" if exc.expected else "")
        self.show_error(exc.field or "name", message)

    def update_preview(self, plan: ScanPlan) -> None:
        grid = np.array(plan.delays_fs())
        self.grid_fs = list(grid)
        positive = grid[grid > 0]
        self.preview_points.setData(positive, np.zeros_like(positive))
        if positive.size:
            lo, hi = math.log10(positive.min()), math.log10(positive.max())
            self.preview.setXRange(lo, hi, padding=0.05)
            self.preview.setYRange(-1, 1)
        n_nonpos = int((grid <= 0).sum())
        self.grid_label.setText(
            f"{grid.size} delays ({n_nonpos} at ≤ 0 fs), {grid.min():g} … {grid.max():g} fs"
        )
        self.summary.setText(
            f"{plan.n_points()} points = {plan.sweeps.count} sweep(s) × "
            f"{plan.n_wavelengths()} wavelength(s) × {plan.n_fluences()} fluence(s) × "
            f"{plan.points_per_sweep()} delays"
        )

    # -- files -----------------------------------------------------------------------------
    def load(self, path: str | Path) -> bool:
        """Load a plan file into the form, then check it (errors shown at the fields)."""
        path = Path(path)
        try:  # as the command line reads it: a byte-order mark is fine, bad bytes a message
            data = load_toml(path)
        except InputError as exc:
            self.clear_errors()
            self.show_error("name", f"cannot read {exc}")
            return False
        self.path = str(path)
        self.file_label.setText(str(path))
        self.set_plan_dict(data)
        self.file_used.emit(str(path))
        return self.check() is not None

    def save(self, path: str | Path) -> bool:
        """Write the form as TOML (only a plan that checks out is saved)."""
        if self.check() is None:
            return False
        Path(path).write_text(tomli_w.dumps(drop_none(self.plan_dict())), encoding="utf-8")
        self.path = str(path)
        self.file_label.setText(str(path))
        self.file_used.emit(str(path))
        return True

    # -- presets ---------------------------------------------------------------------------
    def refresh_presets(self) -> None:
        self.preset_box.clear()
        if self.presets is not None:
            self.preset_box.addItems(self.presets.preset_names())
        self.preset_box.setCurrentIndex(-1)

    def save_preset(self, name: str) -> bool:
        """Keep the form (if it checks out) as the preset ``name``."""
        if self.presets is None or not name.strip() or self.check() is None:
            return False
        self.presets.save_preset(name.strip(), tomli_w.dumps(drop_none(self.plan_dict())))
        self.refresh_presets()
        return True

    def load_preset(self, name: str) -> bool:
        text = self.presets.preset(name) if self.presets is not None else None
        if not text:
            return False
        self.set_plan_dict(tomllib.loads(text))
        self.file_label.setText(f"preset {name!r}")
        return self.check() is not None

    def choose_preset_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "preset name", text=self.name.text())
        if ok:
            self.save_preset(name)

    def choose_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load scan plan", self.path or "", "Plans (*.toml)"
        )
        if path:
            self.load(path)

    def choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save scan plan", self.path or "plan.toml", "Plans (*.toml)"
        )
        if path:
            self.save(path)
