"""GUI data browser: opens finished files and follows a file that is still being written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from storage_support import make_metadata, make_record

pytestmark = pytest.mark.gui


def _browser(qtbot: Any) -> Any:
    from tamrig.gui.browser import DataBrowser

    browser = DataBrowser(refresh_ms=50)
    qtbot.addWidget(browser)
    return browser


def test_browser_follows_a_running_file_and_stops_when_it_ends(qtbot: Any, tmp_path: Path) -> None:
    from tamrig.storage import ScanWriter

    md = make_metadata(8)
    path = tmp_path / "running.h5"
    writer = ScanWriter.create(path, md)
    for i in range(3):
        writer.write_point(make_record(i, md))
    browser = _browser(qtbot)
    try:
        assert browser.open_file(path)
        assert browser.table.rowCount() == 3
        assert "running" in browser.status_label.text()
        assert browser.timer.isActive()
        for i in range(3, 8):
            writer.write_point(make_record(i, md))
        first_row = browser.table.item(0, 0)
        qtbot.waitUntil(lambda: browser.table.rowCount() == 8, timeout=10_000)
        # rows already shown are kept as they are; only the new points are added
        assert browser.table.item(0, 0) is first_row
        assert [browser.table.item(r, 0).text() for r in range(8)] == [str(i) for i in range(8)]
        writer.finish("finished")
    finally:
        writer.close()
    qtbot.waitUntil(lambda: "finished" in browser.status_label.text(), timeout=10_000)
    assert not browser.timer.isActive()
    # the newest point is selected and drawn with its stored fit
    assert browser.selected_index == 7
    fit = browser.dtt_view.last_fit
    assert fit is not None and fit.sigma_nm == pytest.approx((2.0 + 0.7) * 120.0)
    assert browser.dtt_view.image.image.shape == md.image_shape
    series = browser.plots.series
    assert list(series) == ["905nm/N=0.045"]  # the name the live view gives the series
    assert browser.plots.n_points("905nm/N=0.045") == 8  # every point, each sweep
    browser.close_file()


def test_browser_shows_unfitted_points_and_open_errors(qtbot: Any, tmp_path: Path) -> None:
    from tamrig.storage import ScanWriter

    md = make_metadata(4)
    path = tmp_path / "done.h5"
    with ScanWriter.create(path, md) as writer:
        for i in range(4):
            writer.write_point(make_record(i, md))
        writer.finish("aborted")
    browser = _browser(qtbot)
    assert browser.open_file(path)
    assert "aborted · 4 points" in browser.status_label.text()
    assert not browser.timer.isActive()
    browser.table.selectRow(3)  # point 3's fit did not converge
    assert browser.dtt_view.last_fit is None
    assert "no fit" in browser.dtt_view.info.text()
    assert np.isfinite(browser.dtt_view.image.image).all()
    bad = tmp_path / "not-a-scan.h5"
    bad.write_bytes(b"nothing")
    width = browser.sizeHint().width()
    assert not browser.open_file(bad)
    assert "not-a-scan.h5" in browser.error.text()
    # the old file's table and image do not stay under the error; the window keeps its width
    assert browser.table.rowCount() == 0 and browser.plots.series == {}
    assert browser.dtt_view.image.image is None
    assert browser.sizeHint().width() <= width
    browser.close_file()


def test_a_point_without_a_spot_above_the_noise_is_shown_as_such(
    qtbot: Any, tmp_path: Path
) -> None:
    """A converged fit of a point the estimators flag as noise is not drawn as a spot; a
    significant spot at zero delay is (the old rule hid every fit at delay ≤ 0)."""
    import dataclasses

    from tamrig.storage import ScanWriter

    md = make_metadata(3)
    path = tmp_path / "noise.h5"
    with ScanWriter.create(path, md) as writer:
        for i in range(3):
            record = make_record(i, md)
            if i == 1:
                assert record.transport is not None
                noise = dataclasses.replace(record.transport, significant=False)
                record = dataclasses.replace(record, transport=noise)
            if i == 2:
                record = dataclasses.replace(record, delay_fs=0.0)
            writer.write_point(record)
        writer.finish("finished")
    browser = _browser(qtbot)
    assert browser.open_file(path)
    from tamrig.gui.browser import COLUMNS, NOISE_TIP

    sigma_col = [key for key, _, _ in COLUMNS].index("sigma_nm")
    noise_cell, spot_cell = browser.table.item(1, sigma_col), browser.table.item(2, sigma_col)
    # the width of a noise feature is greyed and says why; a spot's σ is plain, with its error
    assert noise_cell.toolTip() == NOISE_TIP and spot_cell.toolTip() == ""
    assert noise_cell.foreground().color() != spot_cell.foreground().color()
    assert spot_cell.text() == "264.0 ± 1.0"
    browser.table.selectRow(1)
    assert browser.dtt_view.last_fit is None
    assert browser.dtt_view.info.text() == "point 1: no spot above the noise"
    browser.table.selectRow(2)
    fit = browser.dtt_view.last_fit
    assert fit is not None and fit.sigma_nm == pytest.approx(2.2 * 120.0)
    assert browser.dtt_view.info.text().startswith("point 2: σ = 264.0 ± 1.0 nm")
    browser.close_file()
