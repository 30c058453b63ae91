"""The accumulator at its edges: unlit pixels, no normalisation, and what a result reports
besides ΔT/T (dropped frames, the dark frame it used)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from test_acquisition import SHAPE, block_of, make_frames

from tamrig.acquisition.accumulator import DifferentialAccumulator, border_mask
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


def test_a_dim_probe_is_still_light() -> None:
    """Frames half a count above the dark level on average are normalised, not refused."""
    tags = np.arange(8) % 2 == 0
    data = np.full((8, *SHAPE), 100, np.uint16)
    data[:, :, ::2] = 101  # every other column one count above the dark level
    acc = DifferentialAccumulator(SHAPE, np.full(SHAPE, 100.0))
    acc.add(block_of(data, tags), tags)
    result = acc.result()
    assert result.off_mean[0, 0] == pytest.approx(1.0) and result.off_mean[0, 1] == 0.0
    assert result.dtt[0, 0] == pytest.approx(0.0, abs=1e-12)


def test_two_frames_of_each_kind_are_enough() -> None:
    """Two pump-on and two pump-off frames give a result (the fewest with an error); one of
    either is refused, naming both counts."""
    rng = np.random.default_rng(44)
    data, _ = make_frames(rng, 6)
    acc = DifferentialAccumulator(SHAPE, np.full(SHAPE, 100.0), threads=1)
    two = np.array([True, False, True, False])
    acc.add(block_of(data[:4], two), two)
    assert (acc.result().n_on, acc.result().n_off) == (2, 2)
    assert np.all(acc.frame_mean(pump_on=True)[1] > 0)
    lone = DifferentialAccumulator(SHAPE, threads=1)
    tags = np.array([True, False, False, False, False])
    for k in range(5):  # one frame per block: the single-thread scratch slab is reused
        lone.add(block_of(data[k : k + 1], tags[k : k + 1]), tags[k : k + 1])
    with pytest.raises(ValueError, match=r"^need >= 2 pump-on and pump-off frames, have 1 and 4$"):
        lone.result()
    with pytest.raises(ValueError, match=r"^need >= 2 pump-on frames, have 1$"):
        lone.frame_mean(pump_on=True)
    assert lone.frame_mean(pump_on=False)[0].shape == SHAPE


@pytest.mark.parametrize(
    ("shape", "rows", "cols"), [((8, 12), 2, 3), ((3, 3), 1, 1), ((20, 40), 5, 10)]
)
def test_border_mask_is_a_frame_of_a_quarter_of_each_side(
    shape: tuple[int, int], rows: int, cols: int
) -> None:
    mask = border_mask(shape)
    expected = np.zeros(shape, bool)
    expected[:rows, :] = expected[-rows:, :] = True
    expected[:, :cols] = expected[:, -cols:] = True
    np.testing.assert_array_equal(mask, expected)


def test_the_accumulator_uses_up_to_two_cores() -> None:
    import os

    from tamrig.acquisition.accumulator import max_threads

    assert max_threads() == min(2, os.cpu_count() or 1)
