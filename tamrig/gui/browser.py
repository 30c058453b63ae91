"""Data browser: open a finished or still-running scan file and look through its points.

A running file (SWMR) is re-read once a second while "follow" is on, so the table and the
plots grow as the scan writes points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tamrig.errors import StorageError, TamrigError
from tamrig.gui.analysis_plots import AnalysisPlots, transport_from_columns
from tamrig.gui.liveview import DttView, caption, set_caption
from tamrig.records import GaussianFit
from tamrig.storage import ScanFile, open_scan
from tamrig.storage.soundness import check_scan_file

#: (column key, header: name and unit on two lines to keep the table narrow, format)
COLUMNS = (
    ("index", "#", "{:d}"),
    ("sweep", "sweep", "{:d}"),
    ("delay_fs", "delay\n(fs)", "{:.1f}"),
    ("fluence_label", "fluence", "{}"),  # F₀ and ⟨N_abs⟩ in its tooltip: one per fluence
    ("probe_wavelength_nm", "λ\n(nm)", "{:g}"),
    ("sigma_nm", "σ ± δσ\n(nm)", "{:.1f}"),
    ("msd_nm2", "MSD\n(nm²)", "{:.4g}"),
    ("diffusivity_cm2_s", "D\n(cm²/s)", "{:.3g}"),
)
#: columns that read nothing where the fit found no spot above the noise
FIT_COLUMNS = frozenset({"sigma_nm", "msd_nm2", "diffusivity_cm2_s"})
NOISE_TIP = "no spot above the noise: the fit found the largest noise feature"
NOISE_COLOUR = QColor("#8a8a8a")


def fit_from_columns(points: dict[str, np.ndarray], row: int) -> GaussianFit | None:
    """The stored Gaussian fit of one point (None if the point was not fitted or failed)."""
    if not int(points["has_fit"][row]) or not int(points["converged"][row]):
        return None

    def value(key: str) -> float:
        return float(points[key][row])

    def optional(key: str) -> float | None:
        v = value(key)
        return v if np.isfinite(v) else None

    return GaussianFit(
        sigma_nm=value("sigma_nm"),
        sigma_err_nm=value("sigma_err_nm"),
        x0_nm=value("x0_nm"),
        y0_nm=value("y0_nm"),
        amplitude=value("amplitude"),
        offset=value("offset"),
        sigma_x_nm=optional("sigma_x_nm"),
        sigma_y_nm=optional("sigma_y_nm"),
    )


class DataBrowser(QWidget):
    opened = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None, refresh_ms: int = 1000) -> None:
        super().__init__(parent)
        self.scan: ScanFile | None = None
        self.open_button = QPushButton("open data file…")
        self.open_button.clicked.connect(self.choose_file)
        self.path_label = caption()
        set_caption(self.path_label, "no file")
        self.status_label = QLabel("")
        self.follow = QCheckBox("follow running scan")
        self.follow.setChecked(True)
        # errors are one clipped line (full text in the tooltip): never widen the window
        self.error = caption()
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.path_label, 1)
        top.addWidget(self.status_label)
        top.addWidget(self.follow)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _, title, _ in COLUMNS])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.table.verticalHeader().hide()  # type: ignore[union-attr]
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.dtt_view = DttView(50.0)
        self.plots = AnalysisPlots()
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.table)
        upper.addWidget(self.dtt_view)
        upper.setStretchFactor(0, 1)  # the table's eight columns fit in half of 1366 px
        upper.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(split, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.start_dir = ""
        self.selected_index: int | None = None

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open scan data", self.start_dir, "Scan data (*.h5 *.hdf5 *.nxs)"
        )
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Open ``path`` (finished or running); errors are shown, not raised."""
        self.close_file()
        try:
            check_scan_file(path)  # read-only: a damaged file is refused, never changed
            self.scan = open_scan(path)
        except (TamrigError, OSError) as exc:
            # nothing of the previous file stays on screen under the error
            self.table.setRowCount(0)
            self.plots.clear()
            self.dtt_view.clear()
            self.status_label.setText("")
            set_caption(self.path_label, "no file")
            set_caption(self.error, str(exc), "color: #b01c1c")
            return False
        set_caption(self.error, "")
        set_caption(self.path_label, str(path))
        self.dtt_view.pixel_size_nm = self.scan.pixel_size_nm
        self.table.setRowCount(0)
        self.plots.clear()
        self.timer.start()
        self._update()
        self.opened.emit(str(path))
        return True

    def close_file(self) -> None:
        self.timer.stop()
        if self.scan is not None:
            self.scan.close()
            self.scan = None

    def refresh(self) -> None:
        """Re-read a running file (SWMR); stops following once the scan has ended."""
        if self.scan is None or not self.follow.isChecked():
            return
        try:
            self.scan.refresh()
        except (StorageError, OSError) as exc:
            set_caption(self.error, f"refresh failed: {exc}", "color: #b01c1c")
            return
        self._update()

    def _update(self) -> None:
        scan = self.scan
        assert scan is not None
        points = scan.points()
        n = len(points["index"])
        self.status_label.setText(f"{scan.status} · {n} points")
        if scan.status != "running":
            self.timer.stop()
        previous = self.table.rowCount()
        if n == previous:
            return
        selected = {item.row() for item in self.table.selectedItems()}
        on_newest = not selected or selected == {previous - 1}
        self.table.setRowCount(n)
        # stored points never change: only the rows new since the last look are filled
        for row in range(previous, n):
            for col, item in enumerate(_row_items(points, row)):
                self.table.setItem(row, col, item)
        for series, transport in transport_from_columns(points).items():
            self.plots.set_series(series, transport)
        self.plots.draw()
        if on_newest:  # keep showing the newest point while it is followed
            self.table.selectRow(n - 1)

    def show_selected(self) -> None:
        scan = self.scan
        rows = {item.row() for item in self.table.selectedItems()}
        if scan is None or not rows:
            return
        row = min(rows)
        points = scan.points()
        index = int(points["index"][row])
        fit = fit_from_columns(points, row)
        caption = f"point {index}: "
        if fit is None:
            caption += "no fit"
        elif _significant(points, row):
            caption += f"σ = {fit.sigma_nm:.1f} ± {fit.sigma_err_nm:.1f} nm"
        else:  # the fit found the largest noise feature (its width is in the table)
            caption += "no spot above the noise"
            fit = None
        self.dtt_view.show_dtt(scan.dtt(index), fit, caption)
        self.selected_index = index


def _cell_text(points: dict[str, Any], key: str, fmt: str, row: int) -> str:
    value: Any = points[key][row]
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    if value != value:
        return "–"
    text = fmt.format(value)
    if key == "sigma_nm":
        err = float(points["sigma_err_nm"][row])
        text += f" ± {err:.1f}" if err == err else ""
    return text


def _row_items(points: dict[str, Any], row: int) -> list[QTableWidgetItem]:
    """One point's cells; where no spot stands above the noise the fitted numbers are
    greyed, with the reason in their tooltip (the width of a noise feature is no σ)."""
    noise = not _significant(points, row)
    items = []
    for key, _, fmt in COLUMNS:
        item = QTableWidgetItem(_cell_text(points, key, fmt, row))
        if key == "fluence_label":
            f0, n_abs = float(points["fluence_uj_cm2"][row]), float(points["n_abs"][row])
            item.setToolTip(f"F₀ = {f0:.3g} µJ/cm², ⟨N_abs⟩ = {n_abs:.3g}")
        elif noise and key in FIT_COLUMNS:
            item.setForeground(NOISE_COLOUR)
            item.setToolTip(NOISE_TIP)
        items.append(item)
    return items


def _significant(points: dict[str, Any], row: int) -> bool:
    """The point's spot stands out of the noise after the carriers arrive (the file's
    ``significant`` column); files written before that column: a delay after zero."""
    flags = points.get("significant")
    if flags is None:
        return float(points["delay_fs"][row]) > 0
    return bool(flags[row])
