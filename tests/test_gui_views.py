"""GUI views: the fitted Gaussian's contour, centre and cuts, and the fault banner."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tamrig.records import GaussianFit

pytestmark = pytest.mark.gui


def _spot(sigma_nm: float, x0_nm: float, y0_nm: float, a: float = 50.0) -> np.ndarray:
    y, x = (np.mgrid[0:40, 0:48] + 0.5) * a  # pixel centres from the pixel-0 corner
    return 1e-3 * np.exp(-((x - x0_nm) ** 2 + (y - y0_nm) ** 2) / (2 * sigma_nm**2))


def test_dtt_view_draws_contour_centre_and_cuts_of_the_fit(qtbot: Any) -> None:
    from tamrig.gui.liveview import DttView

    view = DttView(50.0)
    qtbot.addWidget(view)
    fit = GaussianFit(150.0, 2.0, 1025.0, 825.0, 1e-3, 0.0)
    view.show_dtt(_spot(150.0, 1025.0, 825.0), fit, "test")
    x, y = view.contour.getData()
    # 1σ ellipse around the centre, in image coordinates (pixel i spans [i, i+1]): a centre
    # 1025 nm from the pixel-0 corner is the middle of pixel 20
    assert np.hypot(x - 20.5, y - 16.5) == pytest.approx(np.full(len(x), 3.0))
    (cx,), (cy,) = view.centre.getData()
    assert (cx, cy) == (20.5, 16.5)
    data_x, values = view.cuts["x"][0].getData()
    model_x, model = view.cuts["x"][1].getData()
    assert values.max() == pytest.approx(1e-3)
    assert data_x[values.argmax()] == pytest.approx(1.025e-6)
    assert model.max() == pytest.approx(1e-3, rel=1e-3)
    assert model_x[model.argmax()] == pytest.approx(1.025e-6, abs=5e-9)
    # a fit that did not converge, or whose σ is unknown, draws no contour
    for bad in (
        GaussianFit(150.0, 2.0, 1025.0, 825.0, 1e-3, 0.0, converged=False),
        GaussianFit(20.0, 900.0, 1000.0, 800.0, 1e-3, 0.0),
    ):
        view.show_dtt(_spot(150.0, 1025.0, 825.0), bad)
        assert view.last_fit is None and len(view.contour.getData()[0] or []) == 0


def test_fault_banner_names_device_message_and_state(qtbot: Any) -> None:
    from tamrig.gui.banner import FaultBanner

    banner = FaultBanner()
    qtbot.addWidget(banner)
    assert banner.isHidden()  # nothing to report yet
    banner.show_fault("stage", "motor stalled", "rig in safe state (pump shutter closed)")
    assert banner.isVisible()
    assert banner.text.text() == (
        "FAULT — stage: motor stalled   ·   rig in safe state (pump shutter closed)"
    )
    image = banner.grab().toImage()
    colour = image.pixelColor(2, 2)
    assert (colour.red(), colour.green(), colour.blue()) == (0xB0, 0x1C, 0x1C)
