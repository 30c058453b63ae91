"""Precision before the scan: the predicted ΔT/T noise and Cramér–Rao width error against
what the simulated rig then delivers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tamrig.devices import CameraNoise
from tamrig.engine.session import check_scan, start_scan
from tamrig.plan import plan_from_dict
from tamrig.plan.precision import dtt_noise_per_pixel, predict_precision
from tamrig.rig import Rig
from tamrig.storage import open_scan

N_ABS = 0.09


def _repeat_plan(sweeps: int) -> Any:
    """One delay (300 fs) measured once per sweep: the scatter of its fits is the precision."""
    return plan_from_dict(
        {
            "name": "precision",
            "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
            "delays": {"segments": [{"kind": "list", "values": [300]}]},
            "fluence": {"unit": "n_abs", "values": [N_ABS]},
            "probe": {"wavelengths_nm": [905.0]},
            "sweeps": {"count": sweeps},
            "acquisition": {"pairs_per_point": 40, "block_frames": 80, "dark_frames": 40},
        }
    )


def test_dtt_noise_from_shot_and_read_noise() -> None:
    noise = CameraNoise(
        probe_counts=1000.0, electrons_per_count=10.0, read_noise_e=100.0, full_well_e=2e5
    )
    # S = 1e4 e-, variance 1e4 + 1e4: σ_N = √(2·2e4/P)/1e4
    assert dtt_noise_per_pixel(noise, 100) == pytest.approx(math.sqrt(400.0) / 1e4)
    accumulated = CameraNoise(1000.0, 10.0, 100.0, 2e5, accumulate=4)
    assert dtt_noise_per_pixel(accumulated, 100) == pytest.approx(math.sqrt(2 * 8e4 / 100) / 4e4)
    full = CameraNoise(1e5, 10.0, 0.0, 2e5)  # 1e6 e- would overflow: the well caps it
    assert dtt_noise_per_pixel(full, 1) == pytest.approx(math.sqrt(2 * 2e5) / 2e5)


@pytest.fixture
def accumulating_rig() -> Any:
    """The simulated rig with 20 exposures per frame (the default rig sums 200)."""
    from conftest import SIM_RIG

    from tamrig.rig import build_rig

    with build_rig(SIM_RIG, overrides={"time_scale": 0.0, "camera_accumulate": 20}) as rig:
        yield rig


def test_predicted_precision_matches_the_scatter_of_simulated_fits(
    accumulating_rig: Rig, tmp_path: Path
) -> None:
    rig = accumulating_rig
    plan = _repeat_plan(sweeps=60)
    check = check_scan(plan, rig=rig)
    assert check.precision is not None
    out = tmp_path / "repeat.h5"
    with start_scan(plan, out=out, rig=rig) as scan:
        assert scan.run() == "finished"
    with open_scan(out) as f:
        points = f.points()
        corners = np.array([f.dtt(int(i))[:16, :16] for i in points["index"]])
    assert points["converged"].all()
    # the ΔT/T noise per pixel, far from the spot
    sigma_n = check.precision.sigma_n
    measured_n = float(np.std(corners - corners.mean(axis=0), ddof=1))
    assert measured_n == pytest.approx(sigma_n, rel=0.1)
    # the width error at the amplitude the spot had (the prediction's only sample input)
    amplitude = float(np.mean(points["amplitude"]))
    noise = rig.camera.noise()
    assert noise is not None
    predicted = predict_precision(
        check.resolved, noise, rig.settings.pixel_size_nm, 141.0, expected_dtt=amplitude / 2
    ).fluences[0]
    assert predicted.amplitude == pytest.approx(amplitude)
    scatter = float(np.std(points["sigma_nm"], ddof=1))
    assert scatter == pytest.approx(predicted.sigma_err_nm, rel=0.2)
    centre = float(np.std(np.concatenate([points["x0_nm"], points["y0_nm"]]), ddof=1))
    assert centre == pytest.approx(predicted.centre_err_nm, rel=0.2)


def test_a_plan_without_delays_near_time_zero_cannot_resolve_the_peak(sim_rig: Rig) -> None:
    """No delay in 0…60 fs: σ₀, and with it the peak D, is undetermined."""
    check = check_scan(_repeat_plan(sweeps=2), rig=sim_rig)
    assert check.precision is not None
    (fluence,) = check.precision.fluences
    assert fluence.peak_delay_fs == 300.0 and math.isinf(fluence.peak_d_err_cm2_s)
    assert not fluence.resolves_peak
    text = "\n".join(check.precision.lines())
    assert "NOT resolved" in text and "assumed: ΔT/T 0.001 at N_abs 0.045" in text
