"""Live transport plots: σ² vs delay, MSD vs delay (log-log) and D(t), one curve per series.

Fed point by point (from engine events or a data file). The log-log plots are drawn in
log10 units with log-labelled axes, because pyqtgraph's error bars do not follow an axis'
log mode; asymmetric log error bars are computed here instead.

Readability rules: only points after time zero are transport data (before it the "spot"
is noise); decades alone are labelled on log axes; the legend is a row above the plots,
never over the data; the y range follows the points, so one huge error bar cannot squash
them; points an estimator marks not significant are drawn grey. Updates only mark a
series dirty: :meth:`AnalysisPlots.draw` (the window's display clock) redraws.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from tamrig.analysis.figures import MIN_D_DELAY_FS
from tamrig.records import TransportPoint

FS_PER_PS = 1000.0


def series_label(probe_wavelength_nm: float, fluence_label: str) -> str:
    """One curve of the analysis plots: a probe wavelength and a fluence (files written
    before the series column existed); the same name the scan engine gives it live."""
    return f"{probe_wavelength_nm:g}nm/{fluence_label}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def transport_from_columns(points: dict[str, np.ndarray]) -> dict[str, list[TransportPoint]]:
    """Group a data file's per-point table into series of TransportPoints."""
    out: dict[str, list[TransportPoint]] = {}
    n = len(points.get("delay_fs", ()))
    stored = points.get("series")
    flags = points.get("significant")  # files written before the column: all significant
    for i in range(n):
        name = _text(stored[i]) if stored is not None else ""
        if not name:
            name = series_label(
                float(points["probe_wavelength_nm"][i]), _text(points["fluence_label"][i])
            )
        out.setdefault(name, []).append(
            TransportPoint(
                delay_fs=float(points["delay_fs"][i]),
                sigma_nm=float(points["sigma_nm"][i]),
                sigma_err_nm=float(points["sigma_err_nm"][i]),
                sigma0_nm=float(points["sigma0_nm"][i]),
                sigma0_err_nm=float("nan"),
                msd_nm2=float(points["msd_nm2"][i]),
                msd_err_nm2=float(points["msd_err_nm2"][i]),
                diffusivity_cm2_s=float(points["diffusivity_cm2_s"][i]),
                diffusivity_err_cm2_s=float(points["diffusivity_err_cm2_s"][i]),
                significant=True if flags is None else bool(flags[i]),
            )
        )
    return out


def log_error_bars(
    values: np.ndarray, errors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log10 value, lower length, upper length) for error bars drawn on log10 data.

    A lower bar that would cross zero is drawn down to 1/10 of the value (one decade).
    """
    values = np.asarray(values, dtype=float)
    errors = np.nan_to_num(np.asarray(errors, dtype=float), nan=0.0)
    log_v = np.log10(values)
    upper = np.log10(values + errors) - log_v
    low_value = np.where(values - errors > 0, values - errors, values / 10.0)
    lower = log_v - np.log10(low_value)
    return log_v, lower, upper


class DecadeAxis(pg.AxisItem):
    """A log10 axis that labels decades only (10⁻¹, 1, 10 …): minor labels overlap."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.setLogMode(True)
        self.enableAutoSIPrefix(False)

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            if abs(v - round(v)) > 1e-6:
                out.append("")
            else:
                out.append(f"{10.0 ** round(v):g}")
        return out


def robust_range(values: np.ndarray, pad: float = 0.08) -> tuple[float, float] | None:
    """y range of the points themselves (not their error bars), padded by ``pad``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo if hi > lo else max(abs(hi), 1e-12) * 0.5
    return lo - pad * span, hi + pad * span


GREY = (150, 150, 150)


@dataclass
class SeriesCurves:
    """The items of one series in the three plots, and its points by key."""

    colour: object
    points: dict[Hashable, TransportPoint] = field(default_factory=dict)
    items: dict[str, tuple[pg.PlotDataItem, pg.ErrorBarItem]] = field(default_factory=dict)
    grey: dict[str, pg.ScatterPlotItem] = field(default_factory=dict)
    dirty: bool = True


class AnalysisPlots(QWidget):
    PLOTS = ("sigma2", "msd", "diffusivity")
    TITLES: ClassVar[dict[str, str]] = {
        "sigma2": "σ² vs delay",
        "msd": "MSD vs delay",
        "diffusivity": "D(t)",
    }

    def __init__(self, parent: QWidget | None = None, *, arrange: bool = True) -> None:
        super().__init__(parent)
        self.plots: dict[str, pg.PlotWidget] = {
            "sigma2": pg.PlotWidget(axisItems={"bottom": DecadeAxis("bottom")}),
            "msd": pg.PlotWidget(
                axisItems={"bottom": DecadeAxis("bottom"), "left": DecadeAxis("left")}
            ),
            "diffusivity": pg.PlotWidget(axisItems={"bottom": DecadeAxis("bottom")}),
        }
        labels = {"sigma2": "σ² (nm²)", "msd": "MSD (nm²)", "diffusivity": "D (cm²/s)"}
        for name, plot in self.plots.items():
            plot.setTitle(self.TITLES[name], size="10pt")
            plot.setLabel("bottom", "delay (ps)")
            plot.setLabel("left", labels[name])
            plot.showGrid(x=True, y=True, alpha=0.25)
            for side in ("bottom", "left"):  # units are in the labels: no "(x0.001)" scaling
                plot.getAxis(side).enableAutoSIPrefix(False)
            plot.setMinimumSize(160, 120)
        #: one row naming each series in its colour, above the plots (never over the data)
        self.legend = QLabel("")
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.series: dict[str, SeriesCurves] = {}
        self.draws = 0
        if arrange:
            grid = QGridLayout()
            grid.addWidget(self.plots["sigma2"], 0, 0)
            grid.addWidget(self.plots["msd"], 0, 1)
            grid.addWidget(self.plots["diffusivity"], 1, 0, 1, 2)
            layout = QVBoxLayout(self)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(self.legend)
            layout.addLayout(grid, 1)

    def clear(self) -> None:
        for curves in self.series.values():
            for name, (line, bars) in curves.items.items():
                self.plots[name].removeItem(line)
                self.plots[name].removeItem(bars)
                self.plots[name].removeItem(curves.grey[name])
        self.series.clear()
        self.legend.setText("")

    def _curves(self, series: str) -> SeriesCurves:
        if series not in self.series:
            colour = pg.intColor(len(self.series), hues=8, values=1, maxValue=220)
            curves = SeriesCurves(colour=colour)
            for name, plot in self.plots.items():
                line = plot.plot(
                    pen=pg.mkPen(colour, width=1.5),
                    symbol="o",
                    symbolSize=6,
                    symbolBrush=colour,
                )
                bars = pg.ErrorBarItem(pen=pg.mkPen(colour), beam=0.0)
                grey = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(*GREY), pen=None)
                plot.addItem(bars)
                plot.addItem(grey)
                curves.items[name] = (line, bars)
                curves.grey[name] = grey
            self.series[series] = curves
            self.legend.setText(
                "   ".join(
                    f'<span style="color:{pg.mkColor(c.colour).name()}">● {name}</span>'
                    for name, c in self.series.items()
                )
            )
        return self.series[series]

    def add_point(self, series: str, point: TransportPoint, key: Hashable = None) -> None:
        """Add (or replace, by ``key``: default the delay) one point; drawn on :meth:`draw`.

        A scan passes the point index as key, so each sweep's point at a delay is shown.
        """
        curves = self._curves(series)
        curves.points[point.delay_fs if key is None else key] = point
        curves.dirty = True

    def set_series(self, series: str, points: list[TransportPoint]) -> None:
        """Replace a whole series (after σ₀ changed and earlier points were re-evaluated)."""
        curves = self._curves(series)
        curves.points = dict(enumerate(points))
        curves.dirty = True

    def draw(self) -> None:
        """Redraw the series that changed since the last call, then the y ranges."""
        dirty = [c for c in self.series.values() if c.dirty]
        if not dirty:
            return
        for curves in dirty:
            self._redraw(curves)
            curves.dirty = False
        self._set_ranges()
        self.draws += 1

    def _set_ranges(self) -> None:
        for name, plot in self.plots.items():
            ys = [c.items[name][0].getData()[1] for c in self.series.values()]
            values = np.concatenate([y for y in ys if y is not None] or [np.zeros(0)])
            span = robust_range(values)
            if span is not None:
                plot.setYRange(*span, padding=0)
            plot.enableAutoRange(axis="x")

    def _redraw(self, curves: SeriesCurves) -> None:
        # before time zero there is no excitation: a "width" there is noise, not transport
        pts = sorted(
            (p for p in curves.points.values() if p.delay_fs > 0), key=lambda p: p.delay_fs
        )
        sig = np.array([p.significant for p in pts], dtype=bool)
        t_ps = np.array([p.delay_fs for p in pts]) / FS_PER_PS
        sigma = np.array([p.sigma_nm for p in pts])
        sigma2 = sigma**2
        sigma2_err = 2 * sigma * np.nan_to_num(np.array([p.sigma_err_nm for p in pts]))
        self._set("sigma2", curves, np.log10(t_ps), sigma2, sig, height=2 * sigma2_err)

        msd = np.array([p.msd_nm2 for p in pts])
        msd_err = np.array([p.msd_err_nm2 for p in pts])
        ok = (msd > 0) & np.isfinite(msd)
        log_msd, lower, upper = log_error_bars(msd[ok], msd_err[ok])
        self._set("msd", curves, np.log10(t_ps[ok]), log_msd, sig[ok], top=upper, bottom=lower)

        d = np.array([p.diffusivity_cm2_s for p in pts])
        d_err = np.nan_to_num(np.array([p.diffusivity_err_cm2_s for p in pts]), nan=0.0)
        # inside the instrument response MSD/2t divides noise by a near-zero t (as in the
        # report's D(t) figure)
        ok = np.isfinite(d) & (t_ps * FS_PER_PS >= MIN_D_DELAY_FS)
        self._set("diffusivity", curves, np.log10(t_ps[ok]), d[ok], sig[ok], height=2 * d_err[ok])

    def _set(
        self,
        name: str,
        curves: SeriesCurves,
        x: np.ndarray,
        y: np.ndarray,
        significant: np.ndarray,
        **bars: np.ndarray,
    ) -> None:
        line, error_bars = curves.items[name]
        keep = {k: v[significant] for k, v in bars.items()}
        line.setData(x[significant], y[significant])
        error_bars.setData(x=x[significant], y=y[significant], **keep)
        curves.grey[name].setData(x[~significant], y[~significant])

    def n_points(self, series: str) -> int:
        return len(self.series[series].points) if series in self.series else 0
