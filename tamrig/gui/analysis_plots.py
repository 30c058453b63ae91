"""Live transport plots: σ² vs delay, MSD vs delay (log-log) and D(t), one curve per series.

Fed point by point (from engine events or a data file). The log-log plots are drawn in
log10 units with log-labelled axes, because pyqtgraph's error bars do not follow an axis'
log mode; asymmetric log error bars are computed here instead.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QGridLayout, QWidget

from tamrig.records import TransportPoint

FS_PER_PS = 1000.0


def series_label(probe_wavelength_nm: float, fluence_label: str) -> str:
    """One curve of the analysis plots: a probe wavelength and a fluence."""
    return f"{probe_wavelength_nm:g} nm · {fluence_label}"


def transport_from_columns(points: dict[str, np.ndarray]) -> dict[str, list[TransportPoint]]:
    """Group a data file's per-point table into series of TransportPoints."""
    out: dict[str, list[TransportPoint]] = {}
    n = len(points.get("delay_fs", ()))
    for i in range(n):
        series = series_label(
            float(points["probe_wavelength_nm"][i]), str(points["fluence_label"][i])
        )
        out.setdefault(series, []).append(
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


@dataclass
class SeriesCurves:
    """The items of one series in the three plots, and its points by delay."""

    colour: object
    points: dict[Hashable, TransportPoint] = field(default_factory=dict)
    items: dict[str, tuple[pg.PlotDataItem, pg.ErrorBarItem]] = field(default_factory=dict)


class AnalysisPlots(QWidget):
    PLOTS = ("sigma2", "msd", "diffusivity")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots: dict[str, pg.PlotWidget] = {
            "sigma2": pg.PlotWidget(title="σ² vs delay"),
            "msd": pg.PlotWidget(title="MSD vs delay (log-log)"),
            "diffusivity": pg.PlotWidget(title="D(t)"),
        }
        self.plots["sigma2"].setLabel("bottom", "delay (ps)")
        self.plots["sigma2"].setLabel("left", "σ² (nm²)")
        self.plots["msd"].setLabel("bottom", "delay (ps)")
        self.plots["msd"].setLabel("left", "MSD (nm²)")
        self.plots["diffusivity"].setLabel("bottom", "delay (ps)")
        self.plots["diffusivity"].setLabel("left", "D (cm²/s)")
        for name in ("msd", "diffusivity"):
            self.plots[name].getAxis("bottom").setLogMode(True)
        self.plots["msd"].getAxis("left").setLogMode(True)
        for plot in self.plots.values():
            plot.showGrid(x=True, y=True, alpha=0.25)
            for side in ("bottom", "left"):  # units are in the labels: no "(x0.001)" scaling
                plot.getAxis(side).enableAutoSIPrefix(False)
        self.legend = self.plots["sigma2"].addLegend(offset=(10, 10))
        layout = QGridLayout(self)
        layout.addWidget(self.plots["sigma2"], 0, 0)
        layout.addWidget(self.plots["msd"], 0, 1)
        layout.addWidget(self.plots["diffusivity"], 1, 0, 1, 2)
        self.series: dict[str, SeriesCurves] = {}

    def clear(self) -> None:
        for curves in self.series.values():
            for name, (line, bars) in curves.items.items():
                self.plots[name].removeItem(line)
                self.plots[name].removeItem(bars)
        self.legend.clear()
        self.series.clear()

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
                    name=series if name == "sigma2" else None,
                )
                bars = pg.ErrorBarItem(pen=pg.mkPen(colour), beam=0.0)
                plot.addItem(bars)
                curves.items[name] = (line, bars)
            self.series[series] = curves
        return self.series[series]

    def add_point(self, series: str, point: TransportPoint, key: Hashable = None) -> None:
        """Add (or replace, by ``key``: default the delay) one point and redraw its series.

        A scan passes the point index as key, so each sweep's point at a delay is shown.
        """
        curves = self._curves(series)
        curves.points[point.delay_fs if key is None else key] = point
        self._redraw(curves)

    def set_series(self, series: str, points: list[TransportPoint]) -> None:
        """Replace a whole series (after σ₀ changed and earlier points were re-evaluated)."""
        curves = self._curves(series)
        curves.points = dict(enumerate(points))
        self._redraw(curves)

    def _redraw(self, curves: SeriesCurves) -> None:
        pts = sorted(curves.points.values(), key=lambda p: p.delay_fs)
        t_ps = np.array([p.delay_fs for p in pts]) / FS_PER_PS
        sigma = np.array([p.sigma_nm for p in pts])
        sigma2 = sigma**2
        sigma2_err = 2 * sigma * np.array([p.sigma_err_nm for p in pts])
        line, bars = curves.items["sigma2"]
        line.setData(t_ps, sigma2)
        bars.setData(x=t_ps, y=sigma2, height=2 * sigma2_err)

        msd = np.array([p.msd_nm2 for p in pts])
        msd_err = np.array([p.msd_err_nm2 for p in pts])
        ok = (t_ps > 0) & (msd > 0) & np.isfinite(msd)
        log_t = np.log10(t_ps[ok])
        log_msd, lower, upper = log_error_bars(msd[ok], msd_err[ok])
        line, bars = curves.items["msd"]
        line.setData(log_t, log_msd)
        bars.setData(x=log_t, y=log_msd, top=upper, bottom=lower)

        d = np.array([p.diffusivity_cm2_s for p in pts])
        d_err = np.nan_to_num(np.array([p.diffusivity_err_cm2_s for p in pts]), nan=0.0)
        ok = (t_ps > 0) & np.isfinite(d)
        line, bars = curves.items["diffusivity"]
        line.setData(np.log10(t_ps[ok]), d[ok])
        bars.setData(x=np.log10(t_ps[ok]), y=d[ok], height=2 * d_err[ok])

    def n_points(self, series: str) -> int:
        return len(self.series[series].points) if series in self.series else 0
