"""Photodamage and drift from the per-sweep reference delay: trends, errors, warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import write_variant

from tamrig.analysis.drift import (
    FIELDS,
    DriftLimits,
    ReferenceTracker,
    drift_from_points,
    reference_drift,
)
from tamrig.cli import main
from tamrig.engine import Notice
from tamrig.engine.session import start_scan
from tamrig.plan import plan_from_dict
from tamrig.rig import build_rig
from tamrig.storage import open_scan


def _rows(
    rng: np.random.Generator,
    n: int,
    *,
    amp_slope: float = 0.0,
    centre_slope: tuple[float, float] = (0.0, 0.0),
    amp_err: float = 0.03,
    centre_err: float = 10.0,
) -> dict[str, np.ndarray]:
    """n sweeps of reference fits: amplitude 1 (relative units), centre (1600, 1600) nm."""
    sweeps = np.arange(n, dtype=float)
    a_err = np.full(n, amp_err)
    c_err = np.full(n, centre_err)
    return {
        "sweep": sweeps,
        "timestamp": 1.7e9 + 600.0 * sweeps,  # a sweep every 10 minutes
        "amplitude": 1.0 + amp_slope * sweeps + rng.normal(0, amp_err, n),
        "amplitude_err": a_err,
        "sigma_nm": 141.0 + rng.normal(0, 1.0, n),
        "sigma_err_nm": np.ones(n),
        "x0_nm": 1600.0 + centre_slope[0] * sweeps + rng.normal(0, centre_err, n),
        "x0_err_nm": c_err,
        "y0_nm": 1600.0 + centre_slope[1] * sweeps + rng.normal(0, centre_err, n),
        "y0_err_nm": c_err,
    }


def reference_rows(
    amplitude: np.ndarray, amplitude_err: np.ndarray | float, *, centre_err: float = 10.0
) -> dict[str, np.ndarray]:
    """Reference fits of one sweep each (a sweep every 10 minutes) with the given
    amplitudes; σ 141 ± 1 nm and the centre (1600, 1600) nm ± ``centre_err`` held still."""
    n = len(amplitude)
    sweeps = np.arange(n, dtype=float)
    return {
        "sweep": sweeps,
        "timestamp": 1.7e9 + 600.0 * sweeps,
        "amplitude": np.asarray(amplitude, dtype=float),
        "amplitude_err": np.broadcast_to(np.asarray(amplitude_err, dtype=float), (n,)).copy(),
        "sigma_nm": np.full(n, 141.0),
        "sigma_err_nm": np.ones(n),
        "x0_nm": np.full(n, 1600.0),
        "x0_err_nm": np.full(n, centre_err),
        "y0_nm": np.full(n, 1600.0),
        "y0_err_nm": np.full(n, centre_err),
    }


def test_amplitude_change_is_unbiased_with_honest_errors_on_random_truths() -> None:
    rng = np.random.default_rng(5)
    pulls = []
    for _ in range(1500):
        n = int(rng.integers(3, 9))
        slope = rng.uniform(-0.08, 0.02)
        drift = reference_drift("s", _rows(rng, n, amp_slope=slope, amp_err=0.02))
        assert drift is not None and drift.sweeps == tuple(range(n))
        truth = slope * (n - 1)
        pulls.append((drift.amplitude_change - truth) / drift.amplitude_change_err)
        per_hour, _ = drift.amplitude.slope_per_hour
        assert per_hour == pytest.approx(drift.amplitude.slope_per_sweep[0] * 6)
    p = np.array(pulls)
    assert abs(np.median(p)) < 0.1
    assert 0.85 < np.std(p, ddof=1) < 1.2
    assert 0.62 < np.mean(np.abs(p) < 1) < 0.74


def test_stable_reference_rarely_raises_a_false_alarm() -> None:
    """Noise as large as the limits: neither warning fires in more than ~5 % of scans."""
    rng = np.random.default_rng(6)
    limits = DriftLimits(max_amplitude_drop=0.05, max_centre_shift_nm=10.0)
    damage = drift = 0
    trials = 1000
    for _ in range(trials):
        result = reference_drift("s", _rows(rng, 4, amp_err=0.03), limits)
        assert result is not None
        damage += "photodamage" in result.warnings
        drift += "drift" in result.warnings
    assert damage / trials < 0.04
    assert drift / trials < 0.06


def test_falling_amplitude_and_moving_centre_are_reported_beyond_the_limits() -> None:
    rng = np.random.default_rng(7)
    result = reference_drift("905nm/N=0.09 ref", _rows(rng, 5, amp_slope=-0.05))
    assert result is not None
    assert result.amplitude_change == pytest.approx(-0.2, abs=3 * result.amplitude_change_err)
    assert set(result.warnings) == {"photodamage"}
    assert "905nm/N=0.09 ref: the reference amplitude fell" in result.warnings["photodamage"]
    assert result is not None and result.span_s == pytest.approx(4 * 600.0)  # 5 sweeps
    moving = reference_drift("c", _rows(rng, 5, centre_slope=(15.0, -20.0)))
    assert moving is not None and set(moving.warnings) == {"drift"}
    assert moving.centre_shift_nm == pytest.approx(100.0, abs=3 * moving.centre_shift_err_nm)
    assert "centre moved" in moving.describe() and "nm/sweep" in moving.describe()
    # inside the limits: reported, not warned
    small = reference_drift("c", _rows(rng, 5, amp_slope=-0.01, centre_slope=(2.0, 0.0)))
    assert small is not None and small.warnings == {}


def test_tracker_needs_two_sweeps_and_warns_once_per_kind() -> None:
    rng = np.random.default_rng(8)
    rows = _rows(rng, 4, centre_slope=(40.0, 0.0), centre_err=2.0)
    tracker = ReferenceTracker()
    outcomes = [
        tracker.add_values("s", {name: float(rows[name][i]) for name in FIELDS}) for i in range(4)
    ]
    assert outcomes[0] == (None, {})
    assert [set(new) for _, new in outcomes[1:]] == [{"drift"}, set(), set()]
    assert outcomes[-1][0] is not None and "drift" in outcomes[-1][0].warnings


def test_points_without_reference_columns_give_no_drift() -> None:
    assert drift_from_points({"delay_fs": np.zeros(3)}) == {}


def _drift_plan() -> Any:
    return plan_from_dict(
        {
            "name": "drift",
            "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
            "delays": {"reference_fs": 300.0, "segments": [{"kind": "list", "values": [0]}]},
            "fluence": {"unit": "n_abs", "values": [0.09]},
            "probe": {"wavelengths_nm": [905.0]},
            "sweeps": {"count": 3},
            "acquisition": {"pairs_per_point": 400, "block_frames": 100, "dark_frames": 4},
            "drift": {"max_centre_shift_nm": 30.0},
        }
    )


def test_a_drifting_sample_is_reported_live_and_by_analyze(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulated pump spot wanders 3 nm/s (~24 nm per simulated sweep of 2 × 4 s)."""
    rig_file = write_variant(
        tmp_path, "frame_rate_hz = 200.0", "frame_rate_hz = 200.0\ncentre_drift_nm_per_s = 3.0"
    )
    notices: list[Notice] = []
    out = tmp_path / "drift.h5"
    overrides = {"time_scale": 0.0, "camera_accumulate": 1}
    with build_rig(rig_file, overrides=overrides) as rig:
        subscriber = lambda e: notices.append(e) if isinstance(e, Notice) else None  # noqa: E731
        with start_scan(_drift_plan(), out=out, rig=rig, subscribers=[subscriber]) as scan:
            assert scan.run() == "finished"
    kinds = [n.kind for n in notices]
    assert kinds.count("reference") == 2  # after sweeps 2 and 3
    assert kinds.count("drift") == 1 and "photodamage" not in kinds
    with open_scan(out) as f:
        assert [e["kind"] for e in f.events()].count("drift") == 1
    assert main(["analyze", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (drift,) = summary["reference_drift"].values()
    assert drift["sweeps"] == [0, 1, 2] and "drift" in drift["warnings"]
    assert main(["analyze", str(out)]) == 0
    text = capsys.readouterr().out
    assert "reference delay, sweep by sweep" in text and "centre moved" in text
    # a zero-time simulated scan takes seconds: a rate per hour would be an extrapolation
    assert "per hour: not shown, the reference points span" in text and "%/h" not in text
    assert drift["span_s"] < 300.0
    # a resumed scan's tracker starts from the file: trends continue, warnings not repeated
    from tamrig.engine.session import _replay_references

    tracker = ReferenceTracker(DriftLimits(max_centre_shift_nm=30.0))
    _replay_references(out, tracker)
    with open_scan(out) as f:
        table = f.points()
    last = int(np.flatnonzero(table["reference"])[-1])
    values = {name: float(table[name][last]) for name in FIELDS} | {"sweep": 3.0}
    result, new = tracker.add_values(str(table["series"][last]), values)
    assert result is not None and result.sweeps == (0, 1, 2, 3)
    assert new == {} and "drift" in result.warnings
