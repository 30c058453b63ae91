"""Time-zero tool: a quick scan across the rise, the fit of its onset, "set t₀ here".

The scan is an ordinary plan (linear delays around the current zero, no fluence axis) run
by the scan panel, so it is interlocked, logged and stored like any scan. Its points' signal
integral A·σ² (∝ the excited population, as ``tamrig analyze`` uses) is fitted with
:func:`~tamrig.analysis.timezero.fit_time_zero` (step ⊗ Gaussian IRF): t₀ ± error and the
IRF FWHM. "Set t₀ here" writes the stage position of the fitted t₀ into the rig file's
``time_zero_mm`` (after the operator confirms) and asks for the rig to be reopened.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tamrig.analysis.timezero import TimeZeroFit, fit_time_zero, rise_model
from tamrig.errors import InputError
from tamrig.gui.liveview import caption, set_caption
from tamrig.plan import ScanPlan, plan_from_dict
from tamrig.storage import open_scan

TIME_ZERO_LINE = re.compile(r"^(\s*time_zero_mm\s*=\s*)([-+0-9.eE_]+)", re.MULTILINE)


def rise_plan(half_range_fs: float, step_fs: float, pairs: int) -> ScanPlan:
    segment = {"kind": "linear", "start": -half_range_fs, "stop": half_range_fs, "step": step_fs}
    return plan_from_dict(
        {
            "name": "time-zero",
            "description": "quick scan across the rise (time-zero tool)",
            "delays": {"segments": [segment]},
            "acquisition": {"pairs_per_point": pairs, "dark_frames": 16},
        }
    )


def rise_from_file(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(delay fs, A·σ², its error) of every point of a scan file."""
    with open_scan(path) as scan:
        p = scan.points()
    a, a_err = np.asarray(p["amplitude"]), np.asarray(p["amplitude_err"])
    s, s_err = np.asarray(p["sigma_nm"]), np.asarray(p["sigma_err_nm"])
    s2 = s**2
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.hypot(a_err * s2, 2 * a * s2 * s_err / s)
    return np.asarray(p["delay_fs"], dtype=float), a * s2, err


def write_time_zero(rig_file: str | Path, time_zero_mm: float) -> None:
    """Replace ``time_zero_mm`` in the rig file, keeping every other line as it is."""
    path = Path(rig_file)
    text = path.read_text(encoding="utf-8")
    new, n = TIME_ZERO_LINE.subn(lambda m: f"{m.group(1)}{time_zero_mm:.6f}", text, count=1)
    if n != 1:
        raise InputError(
            "no time_zero_mm line to update", file=path, expected="time_zero_mm = <mm> in [rig]"
        )
    path.write_text(new, encoding="utf-8")


class TimeZeroTool(QWidget):
    #: run this plan into this file (the scan panel does it)
    run_requested = pyqtSignal(object, object)
    #: the rig file changed: reopen the rig
    rig_changed = pyqtSignal(str)

    def __init__(
        self,
        delay_to_mm: Callable[[float], float],
        rig_file: str,
        data_dir: Callable[[], str | None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.delay_to_mm = delay_to_mm
        self.rig_file = rig_file
        self.data_dir = data_dir
        #: asks the operator a yes/no question (the window sets it; tests replace it)
        self.confirm: Callable[[str], bool] = lambda q: False
        self.half_range = QDoubleSpinBox()
        self.half_range.setRange(50.0, 1e6)
        self.half_range.setValue(500.0)
        self.half_range.setSuffix(" fs")
        self.step = QDoubleSpinBox()
        self.step.setRange(1.0, 1e5)
        self.step.setValue(20.0)
        self.step.setSuffix(" fs")
        self.pairs = QSpinBox()
        self.pairs.setRange(2, 1_000_000)
        self.pairs.setValue(200)
        self.scan_button = QPushButton("scan the rise")
        self.scan_button.clicked.connect(self.start)
        self.set_button = QPushButton("set t₀ here")
        self.set_button.setEnabled(False)
        self.set_button.clicked.connect(self.set_time_zero)
        form = QFormLayout()
        form.addRow("delays ±", self.half_range)
        form.addRow("step", self.step)
        form.addRow("pairs / point", self.pairs)
        buttons = QHBoxLayout()
        buttons.addWidget(self.scan_button)
        buttons.addWidget(self.set_button)
        buttons.addStretch(1)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "delay (fs)")
        self.plot.setLabel("left", "A·σ² (∝ population)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.points = self.plot.plot(pen=None, symbol="o", symbolSize=6, symbolBrush="#2e86de")
        self.bars = pg.ErrorBarItem(pen=pg.mkPen("#2e86de"), beam=0.0)
        self.plot.addItem(self.bars)
        self.model = self.plot.plot(pen=pg.mkPen("#e4572e", width=2))
        self.t0_line = pg.InfiniteLine(
            angle=90, pen=pg.mkPen("#e4572e", style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        self.plot.addItem(self.t0_line)
        self.t0_line.hide()
        self.result = caption()
        set_caption(self.result, "scan the rise to find time zero")
        top = QHBoxLayout()
        top.addLayout(form)
        top.addLayout(buttons)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.result)
        self.out: Path | None = None
        self.fit: TimeZeroFit | None = None

    def start(self) -> bool:
        try:
            plan = rise_plan(self.half_range.value(), self.step.value(), self.pairs.value())
        except InputError as exc:
            set_caption(self.result, str(exc), "color: #b01c1c")
            return False
        folder = Path(self.data_dir() or Path.cwd())
        self.out = folder / f"time-zero-{time.strftime('%Y%m%d-%H%M%S')}.h5"
        self.fit = None
        self.set_button.setEnabled(False)
        set_caption(self.result, f"scanning the rise into {self.out} …")
        self.run_requested.emit(plan, self.out)
        return True

    def scan_ended(self, status: str, error: str) -> None:
        """The scan panel's run ended; if it was ours, fit what it measured."""
        out, self.out = self.out, None
        if out is None:
            return
        if status != "finished":
            set_caption(
                self.result, f"rise scan {status or 'not started'}: {error}", "color: #b01c1c"
            )
            return
        self.show_fit(*rise_from_file(out))

    def show_fit(self, delay_fs: np.ndarray, signal: np.ndarray, err: np.ndarray) -> TimeZeroFit:
        self.points.setData(delay_fs, signal)
        finite = np.nan_to_num(err, nan=0.0)
        self.bars.setData(x=delay_fs, y=signal, height=2 * finite)
        fit = fit_time_zero(delay_fs, signal, err)
        self.fit = fit
        if not fit.ok:
            self.model.setData([], [])
            self.t0_line.hide()
            set_caption(self.result, f"no time zero: {fit.message}", "color: #b01c1c")
            return fit
        t = np.linspace(float(delay_fs.min()), float(delay_fs.max()), 400)
        params: list[Any] = [
            fit.offset,
            fit.amplitude,
            fit.t0_fs,
            fit.irf_fwhm_fs / 2.3548200450309493,
        ]
        if np.isfinite(fit.decay_amplitude):
            params += [fit.decay_amplitude, fit.decay_tau_fs]
        self.model.setData(t, rise_model(t, *params))
        self.t0_line.setPos(fit.t0_fs)
        self.t0_line.show()
        mm = self.delay_to_mm(fit.t0_fs)
        set_caption(
            self.result,
            f"t₀ = {fit.t0_fs:.1f} ± {fit.t0_err_fs:.1f} fs (stage {mm:.5f} mm) · IRF FWHM "
            f"{fit.irf_fwhm_fs:.0f} ± {fit.irf_fwhm_err_fs:.0f} fs · χ²ᵣ {fit.reduced_chi2:.2f}",
        )
        self.set_button.setEnabled(True)
        return fit

    def set_time_zero(self) -> bool:
        fit = self.fit
        if fit is None or not fit.ok:
            return False
        mm = self.delay_to_mm(fit.t0_fs)
        question = (
            f"Write time_zero_mm = {mm:.6f} into {self.rig_file}? The rig is reopened; every "
            "later delay is measured from the new zero."
        )
        if not self.confirm(question):
            return False
        try:
            write_time_zero(self.rig_file, mm)
        except (InputError, OSError) as exc:
            set_caption(self.result, str(exc), "color: #b01c1c")
            return False
        self.set_button.setEnabled(False)
        self.rig_changed.emit(self.rig_file)
        return True
