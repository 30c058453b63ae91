"""Live image views: the raw camera frame, and ΔT/T with its fitted Gaussian.

Both draw whatever they are given as fast as pyqtgraph can and then tell the producer they
are ready for the next image, so drawing speed never throttles the producer.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from tamrig.records import GaussianFit

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

_VIEW_IDS = itertools.count()
CONTOUR_PEN = pg.mkPen("#00e5ff", width=2)
CUT_DATA_PEN = pg.mkPen("#444444", width=1)
CUT_FIT_PEN = pg.mkPen("#e4572e", width=2)


def _image_view() -> pg.ImageView:
    """An ImageView whose view boxes are not in pyqtgraph's global registry of linkable views.

    The registry connects a Python lambda to each view box's ``destroyed`` signal, which
    crashes when the window is deleted during garbage collection; we link no views, so both
    the connection and the registration are dropped.
    """
    view = pg.ImageView(name=f"image{next(_VIEW_IDS)}")
    for box in (view.view, view.ui.roiPlot.getViewBox()):
        box.destroyed.disconnect()
        box.unregister()
    view.ui.roiBtn.hide()
    view.ui.menuBtn.hide()
    return view


def caption() -> QLabel:
    """A one-line caption whose text never resizes its view (or the window): clipped, with
    the whole text in its tooltip."""
    label = QLabel("")
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return label


def set_caption(label: QLabel, text: str, style: str = "") -> None:
    label.setText(text)
    label.setToolTip(text)
    label.setStyleSheet(style)


class CameraView(QWidget):
    """Newest raw frame and its counter; levels follow the user, unless the scene changes
    so much (probe light on or off, a dark first frame) that the median leaves the
    displayed range — then they are set afresh. Pixels at ``saturation`` counts are
    counted in the caption (red)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = _image_view()
        self.info = caption()
        set_caption(self.info, "camera idle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.info)
        self.frames_drawn = 0
        self.relevelled = 0
        self.saturation: float | None = None
        self.saturated_pixels = 0
        self._levels_set = False

    def _out_of_levels(self, image: np.ndarray) -> bool:
        levels = self.image.getLevels()
        if levels is None or np.ndim(levels) != 1:
            return True
        lo, hi = float(levels[0]), float(levels[1])
        return not lo <= _median_sample(image) <= hi

    def show_frame(self, image: np.ndarray, text: str = "") -> None:
        first = not self._levels_set
        relevel = first or self._out_of_levels(image)
        self.relevelled += int(relevel and not first)
        self.image.setImage(image, autoLevels=relevel, autoRange=first, autoHistogramRange=relevel)
        self._levels_set = True
        self.frames_drawn += 1
        self.saturated_pixels = (
            int(np.count_nonzero(image >= self.saturation)) if self.saturation else 0
        )
        if self.saturated_pixels:
            set_caption(
                self.info,
                f"{self.saturated_pixels} px SATURATED · {text}",
                "color: #b01c1c; font-weight: bold",
            )
        elif text:
            set_caption(self.info, text)

    def reset_levels(self) -> None:
        """Level the next frame afresh (e.g. after the ROI or exposure changed)."""
        self._levels_set = False


def usable_fit(fit: GaussianFit | None) -> GaussianFit | None:
    """The fit if it describes a spot worth drawing: converged, finite, σ known to < 100 %."""
    if fit is None or not fit.converged or not np.isfinite(fit.sigma_nm):
        return None
    if not np.isfinite(fit.sigma_err_nm) or fit.sigma_err_nm > fit.sigma_nm:
        return None
    return fit


def _median_sample(image: np.ndarray) -> float:
    return float(np.median(image[::4, ::4]))


def gaussian_contour(fit: GaussianFit, pixel_size_nm: float, n: int = 121) -> np.ndarray:
    """(n, 2) points of the 1σ ellipse in image coordinates (pixel i spans [i, i+1])."""
    sx = (fit.sigma_x_nm or fit.sigma_nm) / pixel_size_nm
    sy = (fit.sigma_y_nm or fit.sigma_nm) / pixel_size_nm
    t = np.linspace(0.0, 2 * np.pi, n)
    cx, cy = fit.x0_nm / pixel_size_nm, fit.y0_nm / pixel_size_nm  # from the pixel-0 corner
    return np.column_stack([cx + sx * np.cos(t), cy + sy * np.sin(t)])


def gaussian_cut(fit: GaussianFit, positions_nm: np.ndarray, axis: str) -> np.ndarray:
    """The fitted model along a line through the centre (``axis`` "x" or "y")."""
    centre = fit.x0_nm if axis == "x" else fit.y0_nm
    sigma = (fit.sigma_x_nm if axis == "x" else fit.sigma_y_nm) or fit.sigma_nm
    return fit.offset + fit.amplitude * np.exp(-((positions_nm - centre) ** 2) / (2 * sigma**2))


class DttView(QWidget):
    """ΔT/T image with the fit's 1σ contour and centre, and x / y cuts through the centre."""

    def __init__(
        self, pixel_size_nm: float, parent: QWidget | None = None, *, own_cuts: bool = True
    ) -> None:
        super().__init__(parent)
        self.pixel_size_nm = pixel_size_nm
        self.image = _image_view()
        try:
            self.image.setColorMap(pg.colormap.get("CET-D1"))
        except Exception:  # colour map set is optional; keep the default grey scale
            pass
        self.contour = pg.PlotDataItem(pen=CONTOUR_PEN)
        self.centre = pg.ScatterPlotItem(size=12, symbol="+", pen=pg.mkPen("#00e5ff", width=2))
        self.image.getView().addItem(self.contour)
        self.image.getView().addItem(self.centre)
        self.cut_x = pg.PlotWidget()
        self.cut_y = pg.PlotWidget()
        self.cuts: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        for name, plot in (("x", self.cut_x), ("y", self.cut_y)):
            plot.setMinimumSize(100, 110)
            plot.setLabel("bottom", name, units="m")
            plot.setTitle(f"ΔT/T along {name} through the centre", size="8pt")
            data = plot.plot(pen=CUT_DATA_PEN, symbol="o", symbolSize=4)
            model = plot.plot(pen=CUT_FIT_PEN)
            self.cuts[name] = (data, model)
        self.info = caption()
        set_caption(self.info, "no ΔT/T yet")
        #: the two cuts; under the image unless the owner places them (``own_cuts=False``)
        self.cuts_panel = QSplitter(Qt.Orientation.Horizontal)
        self.cuts_panel.addWidget(self.cut_x)
        self.cuts_panel.addWidget(self.cut_y)
        self.controls = QHBoxLayout()
        layout = QVBoxLayout(self)
        if own_cuts:
            split = QSplitter(Qt.Orientation.Vertical)
            split.addWidget(self.image)
            split.addWidget(self.cuts_panel)
            split.setStretchFactor(0, 3)
            split.setStretchFactor(1, 2)
            layout.addWidget(split, 1)
        else:
            layout.addWidget(self.image, 1)
        layout.addWidget(self.info)
        layout.addLayout(self.controls)
        self.images_drawn = 0
        self._shape: tuple[int, ...] | None = None
        self.last_fit: GaussianFit | None = None

    def clear(self) -> None:
        self.image.clear()
        self.contour.setData([], [])
        self.centre.setData([], [])
        for data, model in self.cuts.values():
            data.setData([], [])
            model.setData([], [])
        self._shape = None
        self.last_fit = None
        set_caption(self.info, "no ΔT/T")

    def show_dtt(self, dtt: np.ndarray, fit: GaussianFit | None, caption: str = "") -> None:
        new = dtt.shape != self._shape
        self._shape = dtt.shape
        self.image.setImage(dtt, autoLevels=True, autoRange=new, autoHistogramRange=True)
        self.images_drawn += 1
        fit = usable_fit(fit)
        self.last_fit = fit
        a = self.pixel_size_nm
        if fit is None:
            self.contour.setData([], [])
            self.centre.setData([], [])
            row, col = dtt.shape[0] // 2, dtt.shape[1] // 2
        else:
            ring = gaussian_contour(fit, a)
            self.contour.setData(ring[:, 0], ring[:, 1])
            self.centre.setData([fit.x0_nm / a], [fit.y0_nm / a])
            row = int(np.clip(math.floor(fit.y0_nm / a), 0, dtt.shape[0] - 1))
            col = int(np.clip(math.floor(fit.x0_nm / a), 0, dtt.shape[1] - 1))
        xs = (np.arange(dtt.shape[1]) + 0.5) * a  # pixel centres from the pixel-0 corner
        ys = (np.arange(dtt.shape[0]) + 0.5) * a
        for name, positions, values in (("x", xs, dtt[row, :]), ("y", ys, dtt[:, col])):
            data, model = self.cuts[name]
            data.setData(positions * 1e-9, values)
            if fit is None:
                model.setData([], [])
            else:
                fine = np.linspace(positions[0], positions[-1], 400)
                model.setData(fine * 1e-9, gaussian_cut(fit, fine, name))
        if caption:
            set_caption(self.info, caption)
