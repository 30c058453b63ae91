"""Alignment view: the camera frame placed on the full sensor, the ROI as a rectangle to
drag, saturation in red, a crosshair on the sensor centre and the fitted ΔT/T centre.

Dragging the rectangle asks (``roi_requested``) for a new camera ROI, snapped to whole
pixels and clipped to the sensor; the window applies it (the camera takes settings only
while stopped) and the next frames arrive at their new place on the sensor.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from tamrig.devices import Roi
from tamrig.gui.liveview import _median_sample, caption, set_caption
from tamrig.records import GaussianFit

SATURATED_RGBA = (255, 0, 0, 255)


def snap_roi(x: float, y: float, w: float, h: float, sensor: tuple[int, int]) -> Roi:
    """Whole pixels, at least 8×8, inside the sensor (height, width)."""
    sh, sw = sensor
    width = int(min(max(round(w), 8), sw))
    height = int(min(max(round(h), 8), sh))
    left = int(min(max(round(x), 0), sw - width))
    top = int(min(max(round(y), 0), sh - height))
    return Roi(left, top, width, height)


class AlignmentView(QWidget):
    roi_requested = pyqtSignal(object)  # Roi

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setLabel("bottom", "x (px)")
        self.plot.setLabel("left", "y (px)")
        self.image = pg.ImageItem()
        self.saturated = pg.ImageItem()
        self.plot.addItem(self.image)
        self.plot.addItem(self.saturated)
        self.sensor_outline = pg.PlotDataItem(
            pen=pg.mkPen("#888888", style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        self.plot.addItem(self.sensor_outline)
        self.roi = pg.RectROI([0, 0], [64, 64], pen=pg.mkPen("#ffd000", width=2), snapSize=1.0)
        self.roi.addScaleHandle([0, 0], [1, 1])
        self.plot.addItem(self.roi)
        self.roi.sigRegionChangeFinished.connect(self._dragged)
        cross = pg.mkPen("#00e5ff", width=1)
        self.cross_h = pg.InfiniteLine(angle=0, pen=cross, movable=False)
        self.cross_v = pg.InfiniteLine(angle=90, pen=cross, movable=False)
        self.plot.addItem(self.cross_h)
        self.plot.addItem(self.cross_v)
        self.centre = pg.ScatterPlotItem(size=14, symbol="x", pen=pg.mkPen("#ff4fd8", width=2))
        self.plot.addItem(self.centre)
        self.info = caption()
        set_caption(self.info, "start the live view to align")
        self.auto = QPushButton("auto levels")
        self.auto.clicked.connect(self.reset_levels)
        full = QPushButton("ROI = full sensor")
        full.clicked.connect(self.request_full_sensor)
        row = QHBoxLayout()
        row.addWidget(self.auto)
        row.addWidget(full)
        row.addWidget(QLabel("drag / resize the yellow ROI to set the camera ROI"))
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.info)
        layout.addLayout(row)
        self.sensor: tuple[int, int] | None = None
        self.camera_roi: Roi | None = None
        self.saturation: float | None = None
        self.saturated_pixels = 0
        self.frames_drawn = 0
        self._levels: tuple[float, float] | None = None
        self._updating = False

    # -- camera state ----------------------------------------------------------------------
    def set_camera(self, sensor: tuple[int, int], roi: Roi, saturation: float | None) -> None:
        """Sensor size and current ROI from the camera's read-back."""
        self.saturation = saturation
        if sensor != self.sensor:
            self.sensor = sensor
            h, w = sensor
            self.sensor_outline.setData([0, w, w, 0, 0], [0, 0, h, h, 0])
            self.cross_h.setPos(h / 2)
            self.cross_v.setPos(w / 2)
            self.roi.maxBounds = QRectF(0, 0, w, h)
            self.plot.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)
        if roi != self.camera_roi:
            self.camera_roi = roi
            self._updating = True  # a read-back, not the operator: no request
            self.roi.setPos((roi.x, roi.y), finish=False)
            self.roi.setSize((roi.width, roi.height), finish=False)
            self._updating = False

    def _dragged(self) -> None:
        if self._updating or self.sensor is None:
            return
        (x, y), (w, h) = self.roi.pos(), self.roi.size()
        roi = snap_roi(x, y, w, h, self.sensor)
        if roi != self.camera_roi:
            self.roi_requested.emit(roi)

    def request_full_sensor(self) -> None:
        if self.sensor is not None:
            h, w = self.sensor
            self.roi_requested.emit(Roi(0, 0, w, h))

    # -- drawing ---------------------------------------------------------------------------
    def reset_levels(self) -> None:
        self._levels = None

    def show_frame(self, image: np.ndarray) -> None:
        roi = self.camera_roi
        x, y = (roi.x, roi.y) if roi is not None else (0, 0)
        h, w = image.shape
        median = _median_sample(image)
        if self._levels is None or not self._levels[0] <= median <= self._levels[1]:
            lo, hi = np.percentile(image[::2, ::2], (0.5, 99.5))
            self._levels = (float(lo), float(max(hi, lo + 1)))
        self.image.setImage(image, levels=self._levels, autoLevels=False)
        self.image.setRect(QRectF(x, y, w, h))
        mask = image >= self.saturation if self.saturation else np.zeros(image.shape, bool)
        self.saturated_pixels = int(np.count_nonzero(mask))
        overlay = np.zeros((h, w, 4), np.uint8)
        overlay[mask] = SATURATED_RGBA
        self.saturated.setImage(overlay, autoLevels=False, levels=(0, 255))
        self.saturated.setRect(QRectF(x, y, w, h))
        self.frames_drawn += 1
        text = f"ROI {w}×{h} at ({x}, {y}) · levels {self._levels[0]:.0f}…{self._levels[1]:.0f}"
        if self.saturated_pixels:
            set_caption(
                self.info,
                f"{self.saturated_pixels} px SATURATED (red) · {text}",
                "color: #b01c1c; font-weight: bold",
            )
        else:
            set_caption(self.info, text)

    def show_fit(self, fit: GaussianFit | None, pixel_size_nm: float) -> None:
        """Fitted ΔT/T centre in sensor pixels (the fit is in the ROI's frame, in nm)."""
        roi = self.camera_roi
        if fit is None or roi is None:
            self.centre.setData([], [])
            return
        self.centre.setData(
            [roi.x + fit.x0_nm / pixel_size_nm], [roi.y + fit.y0_nm / pixel_size_nm]
        )
