"""The accumulator at its edges: unlit pixels, no normalisation, and what a result reports
besides ΔT/T (dropped frames, the dark frame it used)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from test_acquisition import SHAPE, block_of, make_frames

from tamrig.acquisition.accumulator import DifferentialAccumulator
from tamrig.devices import FrameBlock


def plain_reference(
    data: npt.NDArray[np.unsignedinteger],
    tags: npt.NDArray[np.bool_],
    dark: npt.NDArray[np.float64],
) -> dict[str, npt.NDArray[np.float64]]:
    """Dark-subtracted means and standard errors, straight from the frames (no normalising)."""
    x = data.astype(np.float64) - dark
    on, off = x[tags], x[~tags]
    out = {
        "on_mean": on.mean(0),
        "off_mean": off.mean(0),
        "on_err": on.std(0, ddof=1) / np.sqrt(len(on)),
        "off_err": off.std(0, ddof=1) / np.sqrt(len(off)),
    }
    out["dtt"] = out["on_mean"] / out["off_mean"] - 1
    out["dtt_err"] = np.hypot(
        out["on_err"] / out["off_mean"], out["on_mean"] * out["off_err"] / out["off_mean"] ** 2
    )
    return out


def test_without_normalisation_the_result_is_the_plain_dark_subtracted_mean() -> None:
    """normalise=False keeps probe-power jitter in (it is not divided out), exactly as a
    direct mean of the dark-subtracted frames would."""
    rng = np.random.default_rng(41)
    data, tags = make_frames(rng, 240, signal=3e-3, power_jitter=0.03)
    dark = np.full(SHAPE, 100.0) + rng.normal(0, 1, SHAPE)
    acc = DifferentialAccumulator(SHAPE, dark, normalise=False)
    for start in range(0, 240, 50):
        part = slice(start, start + 50)
        acc.add(block_of(data[part], tags[part]), tags[part])
    got = acc.result()
    ref = plain_reference(data, tags, dark)
    np.testing.assert_allclose(got.on_mean, ref["on_mean"], rtol=1e-7)
    np.testing.assert_allclose(got.off_mean, ref["off_mean"], rtol=1e-7)
    np.testing.assert_allclose(got.on_err, ref["on_err"], rtol=1e-4)
    np.testing.assert_allclose(got.off_err, ref["off_err"], rtol=1e-4)
    np.testing.assert_allclose(got.dtt, ref["dtt"], atol=1e-8)
    np.testing.assert_allclose(got.dtt_err, ref["dtt_err"], rtol=1e-4)
    # The 3 % power jitter is in the errors: far above the shot noise alone (~0.22 counts).
    assert float(np.median(got.off_err)) > 3.0


def test_unlit_pixels_get_zero_dtt_and_infinite_error() -> None:
    """Pixels at or below the dark level in the pump-off mean (dead, masked, outside the
    probe) carry no ΔT/T: 0 with an infinite error, never inf or NaN. A dim pixel just above
    the dark level is still measured."""
    n = 40
    tags = np.arange(n) % 2 == 0
    rng = np.random.default_rng(42)
    data = (2100 + rng.normal(0, 10, (n, *SHAPE))).round()
    dark = np.full(SHAPE, 100.0)
    data[:, :3, :3] = 100.0  # dead corner: exactly the dark level
    data[:, 5, 5] = 97.0  # below the dark level
    dark[6, 6] = 99.5  # dim pixel: off 100 → 0.5 counts, on 101 → 1.5 counts
    data[:, 6, 6] = np.where(tags, 101.0, 100.0)
    acc = DifferentialAccumulator(SHAPE, dark, normalise=False)
    acc.add(block_of(data.astype(np.uint16), tags), tags)
    result = acc.result()
    unlit = np.zeros(SHAPE, bool)
    unlit[:3, :3] = True
    unlit[5, 5] = True
    assert np.all(result.dtt[unlit] == 0.0)
    assert np.all(np.isposinf(result.dtt_err[unlit]))
    assert result.off_mean[0, 0] == 0.0 and result.off_mean[5, 5] == -3.0
    assert result.off_mean[6, 6] == pytest.approx(0.5)
    assert result.dtt[6, 6] == pytest.approx(2.0)  # 1.5 / 0.5 - 1
    assert result.dtt_err[6, 6] == 0.0  # noiseless pixel
    lit = ~unlit
    assert np.all(np.isfinite(result.dtt[lit])) and np.all(np.isfinite(result.dtt_err[lit]))
    assert 0 < float(np.median(result.dtt_err[lit])) < 0.01


def test_result_reports_dropped_frames_and_the_dark_frame_used() -> None:
    rng = np.random.default_rng(43)
    data, tags = make_frames(rng, 60)
    dark = np.full(SHAPE, 100.0) + rng.normal(0, 1, SHAPE)
    dark_err = np.full(SHAPE, 0.125)
    acc = DifferentialAccumulator(SHAPE, dark, dark_err=dark_err)

    def block(part: slice, dropped: int) -> FrameBlock:
        b = block_of(data[part], tags[part])
        return FrameBlock(b.data, b.frame_id, b.timestamp_s, b.pump_on, dropped=dropped)

    acc.add(block(slice(0, 20), 2), tags[0:20])
    acc.add(block(slice(20, 20), 1), tags[20:20])  # empty block after a gap: still counted
    acc.add(block(slice(20, 40), 0), tags[20:40])
    acc.add(block(slice(40, 60), 3), tags[40:60])
    result = acc.result()
    assert result.dropped_frames == 6
    assert (result.n_on, result.n_off) == (30, 30)
    assert result.dark_mean is not dark  # a copy: the caller may reuse its array
    np.testing.assert_array_equal(result.dark_mean, dark)
    np.testing.assert_array_equal(result.dark_err, dark_err)
    acc.reset()
    acc.add(block(slice(0, 20), 0), tags[0:20])
    assert acc.result().dropped_frames == 0  # reset forgets the gaps with the frames

    bare = DifferentialAccumulator(SHAPE)
    bare.add(block_of(data, tags), tags)
    result = bare.result()
    assert result.dark_mean is None and result.dark_err is None
    assert result.dropped_frames == 0
