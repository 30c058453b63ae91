"""GUI: transport plots per series with error bars, log-log error bars, settings persistence."""

from __future__ import annotations

from typing import Any

import gui_support
import numpy as np
import pytest

from tamrig.records import TransportPoint

pytestmark = pytest.mark.gui
gui_settings = gui_support.gui_settings  # fixtures


def _point(delay_fs: float, d_cm2_s: float, sigma0: float = 200.0) -> TransportPoint:
    nm2_per_fs = d_cm2_s * 1e-2  # 1 cm²/s = 1e14 nm² / 1e15 fs
    msd = 2 * nm2_per_fs * delay_fs
    sigma = float(np.sqrt(sigma0**2 + msd))
    return TransportPoint(
        delay_fs=delay_fs,
        sigma_nm=sigma,
        sigma_err_nm=2.0,
        sigma0_nm=sigma0,
        sigma0_err_nm=1.0,
        msd_nm2=msd,
        msd_err_nm2=2 * sigma * 2.0,
        diffusivity_cm2_s=d_cm2_s,
        diffusivity_err_cm2_s=0.1 * d_cm2_s,
    )


def test_log_error_bars_are_asymmetric_and_never_cross_zero() -> None:
    from tamrig.gui.analysis_plots import log_error_bars

    log_v, lower, upper = log_error_bars(np.array([100.0, 100.0]), np.array([10.0, 150.0]))
    assert log_v == pytest.approx([2.0, 2.0])
    assert upper[0] == pytest.approx(np.log10(110) - 2)
    assert lower[0] == pytest.approx(2 - np.log10(90))
    assert lower[1] == pytest.approx(1.0)  # clipped at one decade, not log of a negative


def test_series_update_point_by_point_and_replace(qtbot: Any) -> None:
    from tamrig.gui.analysis_plots import AnalysisPlots

    plots = AnalysisPlots()
    qtbot.addWidget(plots)
    delays = [-500.0, 1000.0, 3000.0, 10000.0]
    for delay in delays:
        plots.add_point("905nm/N=0.05", _point(delay, 1.0))
    plots.add_point("905nm/N=0.2", _point(1000.0, 3.0))
    assert plots.n_points("905nm/N=0.05") == 4
    assert plots.series["905nm/N=0.05"].items["msd"][0].getData()[0] is None  # not yet drawn
    plots.draw()  # the display clock's tick
    line, bars = plots.series["905nm/N=0.05"].items["msd"]
    x, y = line.getData()
    # negative delay is left out of the log-log plot; the rest sit on a slope-1 line
    assert len(x) == 3
    assert np.diff(y) / np.diff(x) == pytest.approx([1.0, 1.0])
    x_sigma, _ = plots.series["905nm/N=0.05"].items["sigma2"][0].getData()
    # before time zero a fitted width is noise: not drawn as data on any plot
    assert list(x_sigma) == pytest.approx([np.log10(d / 1000) for d in delays if d > 0])
    assert bars.opts["top"] is not None

    plots.add_point("905nm/N=0.05", _point(1000.0, 1.5))  # same delay: replaced
    assert plots.n_points("905nm/N=0.05") == 4
    plots.add_point("905nm/N=0.05", _point(1000.0, 1.5), key=("sweep", 2))  # kept apart
    assert plots.n_points("905nm/N=0.05") == 5
    plots.set_series("905nm/N=0.05", [_point(1000.0, 2.0)])
    plots.draw()
    _, d = plots.series["905nm/N=0.05"].items["diffusivity"][0].getData()
    assert list(d) == [2.0]
    plots.clear()
    assert plots.series == {}


def test_one_huge_error_bar_does_not_set_the_range(qtbot: Any) -> None:
    import dataclasses

    from tamrig.gui.analysis_plots import AnalysisPlots

    plots = AnalysisPlots()
    qtbot.addWidget(plots)
    for delay in (1000.0, 2000.0, 4000.0):
        plots.add_point("a", _point(delay, 1.0))
    wild = _point(8000.0, 1.0)
    plots.add_point("a", dataclasses.replace(wild, diffusivity_err_cm2_s=5e4))
    plots.draw()
    lo, hi = plots.plots["diffusivity"].getViewBox().viewRange()[1]
    assert lo > -1.0 and hi < 3.0  # the points (all 1 cm²/s) fill the plot, not ±50000


def test_log_axes_label_decades_only() -> None:
    from tamrig.gui.analysis_plots import DecadeAxis

    axis = DecadeAxis("bottom")
    labels = axis.logTickStrings([-1.0, np.log10(2), 0.0, np.log10(5), 1.0, 2.0], 1.0, 1.0)
    assert labels == ["0.1", "", "1", "", "10", "100"]


def test_legend_is_a_row_above_the_plots_and_grey_marks_insignificant(qtbot: Any) -> None:
    import dataclasses

    from tamrig.gui.analysis_plots import AnalysisPlots

    plots = AnalysisPlots()
    qtbot.addWidget(plots)
    plots.add_point("905nm/N=0.05", _point(1000.0, 1.0))
    noise = dataclasses.replace(_point(3000.0, 1.0), significant=False)
    plots.add_point("905nm/N=0.05", noise)
    plots.add_point("905nm/N=0.2", _point(1000.0, 3.0))
    plots.draw()
    assert "905nm/N=0.05" in plots.legend.text() and "905nm/N=0.2" in plots.legend.text()
    for plot in plots.plots.values():
        assert plot.getPlotItem().legend is None  # nothing drawn over the data
    curves = plots.series["905nm/N=0.05"]
    assert len(curves.items["sigma2"][0].getData()[0]) == 1
    assert len(curves.grey["sigma2"].getData()[0]) == 1


def test_settings_remember_rigs_plan_and_layout(gui_settings: Any, tmp_path: Any) -> None:
    from PyQt6.QtCore import QByteArray

    from tamrig.gui.settings import GuiSettings

    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    gui_settings.remember_rig(a)
    gui_settings.remember_rig(b)
    gui_settings.remember_rig(a)
    gui_settings.remember_plan(tmp_path / "plan.toml")
    gui_settings.save_layout(QByteArray(b"geo"), QByteArray(b"state"))
    gui_settings.sync()
    again = GuiSettings()  # a new session reads the same file
    assert again.recent_rigs() == [str(a.resolve()), str(b.resolve())]
    assert again.last_rig() == str(a.resolve())
    assert again.last_plan() == str((tmp_path / "plan.toml").resolve())
    geometry, state = again.layout()
    assert bytes(geometry) == b"geo" and bytes(state) == b"state"


def test_file_columns_keep_the_significance_flag_and_the_live_series_name() -> None:
    from tamrig.gui.analysis_plots import transport_from_columns

    n = 3
    columns = {
        key: np.ones(n)
        for key in (
            "sigma_nm",
            "sigma_err_nm",
            "sigma0_nm",
            "msd_nm2",
            "msd_err_nm2",
            "diffusivity_cm2_s",
            "diffusivity_err_cm2_s",
        )
    }
    columns.update(
        delay_fs=np.array([100.0, 200.0, 300.0]),
        probe_wavelength_nm=np.full(n, 905.0),
        fluence_label=np.array([b"N=0.1"] * n),
        series=np.array([b"905nm/N=0.1", b"905nm/N=0.1", b""]),
        significant=np.array([1, 0, 1], dtype=np.uint8),
    )
    series = transport_from_columns(columns)
    # an empty stored name (older file) gets the name the live view gives the same curve
    assert list(series) == ["905nm/N=0.1"] and len(series["905nm/N=0.1"]) == 3
    assert [p.significant for p in series["905nm/N=0.1"]] == [True, False, True]


def test_d_inside_the_instrument_response_is_not_drawn(qtbot: Any) -> None:
    """A point a few fs after time zero (D = MSD/2t of noise over a tiny t) is not drawn on
    the D(t) plot and so cannot set its range; its width still shows on the σ² plot."""
    from tamrig.gui.analysis_plots import AnalysisPlots

    plots = AnalysisPlots()
    qtbot.addWidget(plots)
    for delay, d in ((20.0, 245.0), (100.0, 60.0), (300.0, 100.0), (1000.0, 40.0)):
        plots.add_point("905nm/N=0.045", _point(delay, d))
    plots.draw()
    _, y = plots.series["905nm/N=0.045"].items["diffusivity"][0].getData()
    assert list(y) == [60.0, 100.0, 40.0]
    assert plots.plots["diffusivity"].viewRange()[1][1] < 200
    x_sigma, _ = plots.series["905nm/N=0.045"].items["sigma2"][0].getData()
    assert len(x_sigma) == 4
