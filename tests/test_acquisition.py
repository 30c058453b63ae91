"""Differential imaging: the accumulator against a direct numpy reference, and acquisition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from conftest import write_variant

from tamrig.acquisition.accumulator import DifferentialAccumulator, border_mask
from tamrig.acquisition.sequencing import (
    AcquisitionStopped,
    PointAcquisition,
    acquire_point,
    acquire_sums,
    measure_dark,
)
from tamrig.devices import FrameBlock, Roi
from tamrig.errors import DeviceStateError
from tamrig.rig import Rig, build_rig

SHAPE = (24, 20)


def make_frames(
    rng: np.random.Generator,
    n: int,
    *,
    signal: float = 0.0,
    power_jitter: float = 0.0,
    tags: npt.NDArray[np.bool_] | None = None,
    dark: float = 100.0,
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.bool_]]:
    """Probe frames with shot-like noise; pump-on frames carry a Gaussian ΔT/T spot."""
    h, w = SHAPE
    yy, xx = np.mgrid[:h, :w]
    spot = signal * np.exp(-((yy - h / 2) ** 2 + (xx - w / 2) ** 2) / (2 * 3.0**2))
    tags = (np.arange(n) % 2 == 0) if tags is None else tags
    power = 1.0 + power_jitter * rng.standard_normal(n)
    mean = 2000.0 * power[:, None, None] * (1.0 + spot[None] * tags[:, None, None])
    frames = mean + rng.normal(0.0, 10.0, (n, h, w)) + dark
    return np.clip(np.rint(frames), 0, 4095).astype(np.uint16), tags


def block_of(data: npt.NDArray[np.unsignedinteger], tags: npt.NDArray[np.bool_]) -> FrameBlock:
    n = data.shape[0]
    return FrameBlock(
        data=data,
        frame_id=np.arange(n, dtype=np.int64),
        timestamp_s=np.arange(n, dtype=float),
        pump_on=tags,
    )


def reference(
    data: npt.NDArray[np.unsignedinteger],
    tags: npt.NDArray[np.bool_],
    dark: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_] | None,
) -> dict[str, npt.NDArray[np.float64]]:
    """Straightforward float64 implementation of the documented normalisation."""
    x = data.astype(np.float64) - dark
    sel = np.ones(data.shape[1:], bool) if mask is None else mask
    levels = x[:, sel].mean(axis=1)
    s = x / levels[:, None, None] * levels.mean()
    on, off = s[tags], s[~tags]
    out = {
        "on_mean": on.mean(0),
        "off_mean": off.mean(0),
        "on_err": on.std(0, ddof=1) / np.sqrt(len(on)),
        "off_err": off.std(0, ddof=1) / np.sqrt(len(off)),
    }
    out["dtt"] = out["on_mean"] / out["off_mean"] - 1
    return out


@pytest.mark.parametrize("use_mask", [False, True])
def test_accumulator_matches_direct_reference(use_mask: bool) -> None:
    rng = np.random.default_rng(1)
    data, tags = make_frames(rng, 300, signal=2e-3, power_jitter=0.02)
    dark = np.full(SHAPE, 100.0) + rng.normal(0, 1, SHAPE)
    mask = border_mask(SHAPE) if use_mask else None
    acc = DifferentialAccumulator(SHAPE, dark, normalise=True, norm_mask=mask)
    for start in range(0, 300, 64):  # uneven blocks, last one short
        acc.add(
            block_of(data[start : start + 64], tags[start : start + 64]), tags[start : start + 64]
        )
    got = acc.result()
    ref = reference(data, tags, dark, mask)
    assert got.n_on == 150 and got.n_off == 150
    np.testing.assert_allclose(got.dtt, ref["dtt"], atol=2e-7)
    np.testing.assert_allclose(got.on_mean, ref["on_mean"], rtol=1e-6)
    np.testing.assert_allclose(got.off_mean, ref["off_mean"], rtol=1e-6)
    np.testing.assert_allclose(got.on_err, ref["on_err"], rtol=1e-3)
    np.testing.assert_allclose(got.off_err, ref["off_err"], rtol=1e-3)


def test_a_fresh_accumulator_from_a_template_is_one_built_from_scratch() -> None:
    """The engine takes each point's accumulator from a per-scan template: same result as a
    newly built one, its own sums (the template and an earlier point's are untouched)."""
    rng = np.random.default_rng(7)
    dark = np.full(SHAPE, 100.0) + rng.normal(0, 1, SHAPE)
    dark_err = np.full(SHAPE, 0.5)
    mask = border_mask(SHAPE)
    template = DifferentialAccumulator(SHAPE, dark, True, norm_mask=mask, dark_err=dark_err)
    results = []
    for seed in (2, 3):
        data, tags = make_frames(np.random.default_rng(seed), 64, signal=2e-3, power_jitter=0.02)
        built = DifferentialAccumulator(SHAPE, dark, True, norm_mask=mask, dark_err=dark_err)
        fresh = template.fresh()
        for acc in (built, fresh):
            acc.add(block_of(data, tags), tags)
        want, got = built.result(), fresh.result()
        for name in ("dtt", "dtt_err", "on_mean", "off_mean", "on_err", "off_err", "dark_err"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        assert (got.n_on, got.n_off) == (want.n_on, want.n_off)
        results.append(got.dtt)
    assert template.n_on == template.n_off == 0
    assert not np.array_equal(results[0], results[1])


def test_point_acquisition_follows_the_camera_image_shape(sim_rig: Rig) -> None:
    """Prepared once per scan, but a camera re-configured between points (a pause) gets an
    accumulator of its new shape; each point's sums are its own."""
    strong_pump(sim_rig)
    acquisition = PointAcquisition(sim_rig, n_pairs=4, scheme="chopper", dark=None)
    first = acquisition.run()
    second = acquisition.run()
    assert first is not second and first.n_on == second.n_on == 4
    roi = sim_rig.camera.config().roi
    sim_rig.camera.configure(roi=Roi(roi.x, roi.y, roi.width // 2, roi.height))
    image = acquisition.run().result()
    assert image.dtt.shape == (roi.height, roi.width // 2)
    assert first.result().dtt.shape == (roi.height, roi.width)
    assert not sim_rig.pump_shutter.is_open() and not sim_rig.camera.acquiring


def test_frame_mean_of_untagged_raw_frames_is_their_plain_mean_and_error() -> None:
    """The dark-frame path: all frames pump-off, no normalisation, no dark subtracted."""
    rng = np.random.default_rng(11)
    data = rng.normal(100.0, 4.0, (70, *SHAPE)).round().astype(np.uint16)
    tags = np.zeros(70, bool)
    acc = DifferentialAccumulator(SHAPE, normalise=False)
    for start in range(0, 70, 32):
        acc.add(
            block_of(data[start : start + 32], tags[start : start + 32]), tags[start : start + 32]
        )
    mean, err = acc.frame_mean(pump_on=False)
    frames = data.astype(np.float64)
    np.testing.assert_allclose(mean, frames.mean(0), rtol=1e-9)
    np.testing.assert_allclose(err, frames.std(0, ddof=1) / np.sqrt(70), rtol=1e-4)
    with pytest.raises(ValueError, match="pump-on"):
        acc.frame_mean(pump_on=True)


def test_block_partition_does_not_change_the_result() -> None:
    rng = np.random.default_rng(2)
    data, tags = make_frames(rng, 200, signal=1e-3, power_jitter=0.01)
    whole = DifferentialAccumulator(SHAPE)
    whole.add(block_of(data, tags), tags)
    pieces = DifferentialAccumulator(SHAPE)
    for start, stop in ((0, 7), (7, 64), (64, 65), (65, 200)):
        pieces.add(block_of(data[start:stop], tags[start:stop]), tags[start:stop])
    np.testing.assert_allclose(pieces.result().dtt, whole.result().dtt, atol=1e-7)
    np.testing.assert_allclose(pieces.result().dtt_err, whole.result().dtt_err, rtol=1e-4)


def test_tags_come_from_the_caller_not_from_parity() -> None:
    rng = np.random.default_rng(3)
    tags = np.zeros(200, bool)
    tags[[1, 2, 5, 8, 9, 10, 50, 51, 52, 53, 100, 150, 151, 190, 199]] = True
    data, tags = make_frames(rng, 200, signal=5e-3, tags=tags)
    acc = DifferentialAccumulator(SHAPE, np.full(SHAPE, 100.0))
    acc.add(block_of(data, tags), tags)
    result = acc.result()
    assert (result.n_on, result.n_off) == (15, 185)
    centre = result.dtt[SHAPE[0] // 2, SHAPE[1] // 2]
    assert centre == pytest.approx(5e-3, abs=4 * result.dtt_err[SHAPE[0] // 2, SHAPE[1] // 2])


def test_normalisation_removes_probe_power_fluctuations() -> None:
    rng = np.random.default_rng(4)
    data, tags = make_frames(rng, 400, signal=0.0, power_jitter=0.05)
    noisy = DifferentialAccumulator(SHAPE, np.full(SHAPE, 100.0), normalise=False)
    fixed = DifferentialAccumulator(SHAPE, np.full(SHAPE, 100.0), normalise=True)
    for acc in (noisy, fixed):
        acc.add(block_of(data, tags), tags)
    # Without normalisation the 5 % power noise leaves a frame-wide ΔT/T offset of about
    # 0.05·√(2/200) = 5e-3; with it only shot noise remains.
    assert abs(np.mean(noisy.result().dtt)) > 1e-3
    assert abs(np.mean(fixed.result().dtt)) < 1e-4


def test_standard_errors_are_honest() -> None:
    rng = np.random.default_rng(5)
    repeats = []
    errors = []
    for _ in range(40):
        data, tags = make_frames(rng, 100, signal=0.0)
        acc = DifferentialAccumulator(SHAPE, np.full(SHAPE, 100.0))
        acc.add(block_of(data, tags), tags)
        result = acc.result()
        repeats.append(result.dtt)
        errors.append(result.dtt_err)
    empirical = np.std(np.array(repeats), axis=0, ddof=1).mean()
    reported = np.mean(errors)
    assert reported == pytest.approx(empirical, rel=0.1)


def test_frame_without_probe_light_is_refused() -> None:
    data = np.full((4, *SHAPE), 100, np.uint16)  # dark level only
    tags = np.array([True, False, True, False])
    acc = DifferentialAccumulator(SHAPE, np.full(SHAPE, 100.0))
    with pytest.raises(ValueError, match="no probe light"):
        acc.add(block_of(data, tags), tags)
    data[2] = 97  # the third frame below the dark level: named with its mean
    acc = DifferentialAccumulator(SHAPE, np.full(SHAPE, 99.0))
    message = r"^frame 2 has no probe light \(mean -2 counts after dark subtraction\)$"
    with pytest.raises(ValueError, match=message):
        acc.add(block_of(data, tags), tags)


def test_shape_and_tag_mismatch_are_errors() -> None:
    acc = DifferentialAccumulator(SHAPE)
    data = np.ones((4, 3, 3), np.uint16)
    with pytest.raises(ValueError, match="frame shape"):
        acc.add(block_of(data, np.ones(4, bool)), np.ones(4, bool))
    data = np.ones((4, *SHAPE), np.uint16)
    with pytest.raises(ValueError, match="pump tags"):
        acc.add(block_of(data, np.ones(4, bool)), np.ones(3, bool))
    with pytest.raises(ValueError, match="need >= 2"):
        acc.result()


def test_reset_forgets_frames() -> None:
    rng = np.random.default_rng(6)
    data, tags = make_frames(rng, 50)
    acc = DifferentialAccumulator(SHAPE)
    acc.add(block_of(data, tags), tags)
    acc.reset()
    assert acc.n_on == acc.n_off == 0


# -- on the simulated rig --------------------------------------------------------------------


def centre_value(image: npt.NDArray[np.float64]) -> float:
    h, w = image.shape
    return float(image[h // 2 - 2 : h // 2 + 2, w // 2 - 2 : w // 2 + 2].mean())


def strong_pump(rig: Rig) -> None:
    """Attenuator at maximum transmission and the probe on: a large, easily seen signal."""
    assert rig.attenuator is not None and rig.probe_shutter is not None
    rig.attenuator.set_setting(3.0)
    rig.probe_shutter.open()


def test_acquire_point_chopper_on_sim_rig(sim_rig: Rig) -> None:
    strong_pump(sim_rig)
    sim_rig.set_delay_fs(1000.0)
    dark, dark_err = measure_dark(sim_rig, 64)
    # read noise 200 e⁻ = 4.1 counts per frame, / √64 frames
    assert float(np.median(dark_err)) == pytest.approx(4.1 / 8, rel=0.3)
    assert np.median(dark) == pytest.approx(100.0, abs=2.0)
    assert sim_rig.probe_shutter is not None and sim_rig.probe_shutter.is_open()
    image = acquire_point(sim_rig, n_pairs=400, scheme="chopper", dark=dark)
    assert image.n_on >= 400 and image.n_off >= 400
    assert centre_value(image.dtt) > 5 * centre_value(image.dtt_err)  # the bleach is seen
    assert abs(float(image.dtt[:6, :6].mean())) < 2e-4  # corners: no signal
    assert not sim_rig.pump_shutter.is_open()
    assert not sim_rig.camera.acquiring


def test_a_dark_needs_two_frames_and_two_are_enough(sim_rig: Rig) -> None:
    """Two frames are the fewest with a per-pixel scatter (the error); one is refused before
    any shutter moves."""
    probe = sim_rig.probe_shutter
    assert probe is not None
    probe.open()
    with pytest.raises(ValueError, match=r"^a dark measurement needs at least 2 frames$"):
        measure_dark(sim_rig, 1)
    assert probe.is_open()
    dark, dark_err = measure_dark(sim_rig, 2)
    roi = sim_rig.camera.config().roi
    assert dark.shape == dark_err.shape == (roi.height, roi.width)
    assert np.all(np.isfinite(dark_err)) and np.median(dark) == pytest.approx(100.0, abs=5.0)


def test_a_dark_is_the_plain_mean_of_its_frames_and_their_standard_error(
    sim_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raw counts, not normalised to the frames' level (there is no probe light to
    normalise to), read in blocks of at most 64 frames with both shutters closed."""
    camera = sim_rig.camera
    real_read = camera.read
    blocks: list[FrameBlock] = []

    def spy(n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
        assert not sim_rig.pump_shutter.is_open()
        assert sim_rig.probe_shutter is not None and not sim_rig.probe_shutter.is_open()
        blocks.append(real_read(n_frames, timeout_s))
        return blocks[-1]

    monkeypatch.setattr(camera, "read", spy)
    camera.start()
    sim_rig.open_pump()  # left open by a point: the dark closes it
    dark, dark_err = measure_dark(sim_rig, 150)
    assert [len(b) for b in blocks] == [64, 64, 22]
    frames = np.concatenate([b.data for b in blocks]).astype(float)
    np.testing.assert_allclose(dark, frames.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(dark_err, frames.std(axis=0, ddof=1) / np.sqrt(150), rtol=1e-6)
    probe = sim_rig.probe_shutter
    assert not camera.acquiring and probe is not None and probe.is_open()


def test_a_point_needs_two_pairs(sim_rig: Rig) -> None:
    with pytest.raises(ValueError, match=r"^n_pairs must be >= 2$"):
        PointAcquisition(sim_rig, n_pairs=1, scheme="chopper", dark=None)
    strong_pump(sim_rig)
    sums = PointAcquisition(sim_rig, n_pairs=2, scheme="chopper", dark=None).run()
    assert (sums.n_on, sums.n_off) == (2, 2)


def test_a_chopper_point_reads_what_it_needs_and_normalises_to_the_border(
    sim_rig: Rig,
) -> None:
    """Blocks of at most 64 frames, then only the frames still missing (never fewer than
    2): 97 pairs are 64 + 64 + 64 + 2 frames of the alternating chopper. The sums are those
    of the kept frames, normalised to the image border by default; ``after_frames`` runs
    once, after the last block, with the pump still open."""
    strong_pump(sim_rig)
    sim_rig.set_delay_fs(1000.0)
    for make in (
        lambda hook, after: acquire_sums(
            sim_rig, n_pairs=97, scheme="chopper", dark=None, on_block=hook, after_frames=after
        ),
        lambda hook, after: PointAcquisition(sim_rig, n_pairs=97, scheme="chopper", dark=None).run(
            hook, after
        ),
    ):
        kept: list[tuple[FrameBlock, npt.NDArray[np.bool_]]] = []
        after: list[tuple[int, bool]] = []

        def after_frames(kept: list[Any] = kept, after: list[Any] = after) -> None:
            after.append((len(kept), sim_rig.pump_shutter.is_open()))

        def hook(block: FrameBlock, tags: npt.NDArray[np.bool_], kept: list[Any] = kept) -> None:
            kept.append((block, tags))

        sums = make(hook, after_frames)
        assert [len(b) for b, _ in kept] == [64, 64, 64, 2]
        assert (sums.n_on, sums.n_off) == (97, 97)
        assert after == [(4, True)]
        shape = sums.shape
        want = DifferentialAccumulator(shape, None, True, norm_mask=border_mask(shape))
        for block, tags in kept:
            want.add(block, tags)
        np.testing.assert_array_equal(sums.result().dtt, want.result().dtt)
        assert not sim_rig.pump_shutter.is_open() and not sim_rig.camera.acquiring


def test_a_point_normalises_to_the_callers_mask(sim_rig: Rig) -> None:
    strong_pump(sim_rig)
    sim_rig.set_delay_fs(1000.0)
    roi = sim_rig.camera.config().roi
    shape = (roi.height, roi.width)
    mask = np.zeros(shape, bool)
    mask[: shape[0] // 2] = True  # the upper half, the pump spot's half included
    kept: list[tuple[FrameBlock, npt.NDArray[np.bool_]]] = []
    sums = acquire_sums(
        sim_rig,
        n_pairs=40,
        scheme="chopper",
        dark=None,
        norm_mask=mask,
        on_block=lambda b, t: kept.append((b, t)),
    )
    want = DifferentialAccumulator(shape, None, True, norm_mask=mask)
    border = DifferentialAccumulator(shape, None, True, norm_mask=border_mask(shape))
    for block, tags in kept:
        want.add(block, tags)
        border.add(block, tags)
    np.testing.assert_array_equal(sums.result().dtt, want.result().dtt)
    assert not np.array_equal(sums.result().dtt, border.result().dtt)


def test_a_shutter_point_reads_settle_frames_after_every_shutter_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One settle frame (default) is read and dropped after each change of the pump
    shutter; then a block of the frames still missing, at least 2: 5 pairs in blocks of 3
    are on 1+3, off 1+3, on 1+2, off 1+2."""
    path = write_variant(
        tmp_path, 'kind = "simulated.camera"', 'kind = "simulated.camera"\nchopper = false'
    )
    with build_rig(path, overrides={"time_scale": 0.0, "camera_accumulate": 1}) as rig:
        strong_pump(rig)
        reads: list[tuple[int, bool]] = []
        real_read = rig.camera.read

        def spy(n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
            reads.append((n_frames, rig.pump_shutter.is_open()))
            return real_read(n_frames, timeout_s)

        monkeypatch.setattr(rig.camera, "read", spy)
        for point in (
            lambda: acquire_sums(rig, n_pairs=5, scheme="shutter", block_frames=3, dark=None),
            lambda: PointAcquisition(
                rig, n_pairs=5, scheme="shutter", block_frames=3, dark=None
            ).run(),
        ):
            sums = point()
            on_then_off = [(1, True), (3, True), (1, False), (3, False)]
            assert reads == [*on_then_off, (1, True), (2, True), (1, False), (2, False)]
            assert (sums.n_on, sums.n_off) == (5, 5)
            reads.clear()
        sums = acquire_sums(
            rig, n_pairs=2, scheme="shutter", block_frames=3, dark=None, settle_frames=0
        )
        assert reads == [(2, True), (2, False)] and (sums.n_on, sums.n_off) == (2, 2)


def test_a_point_not_kept_armed_starts_the_camera_and_stops_it(
    sim_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``keep_armed`` each point arms the camera itself, even one left streaming."""
    strong_pump(sim_rig)
    camera = sim_rig.camera
    camera.start()
    starts: list[bool] = []
    real_start = camera.start

    def spy() -> None:
        starts.append(camera.acquiring)
        real_start()

    monkeypatch.setattr(camera, "start", spy)
    acquire_sums(sim_rig, n_pairs=2, scheme="chopper", dark=None)
    assert starts == [True] and not camera.acquiring
    camera.start()
    starts.clear()
    acquire_sums(sim_rig, n_pairs=2, scheme="chopper", dark=None, keep_armed=True)
    assert starts == [] and camera.acquiring


def test_no_frame_exposed_before_the_pump_shutter_reported_open_is_counted(
    sim_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chopper scheme: stale frames (stage move) and frames exposed while the shutter
    travelled are dropped once it reports open; the shutter scheme drops the stale ones
    before its first block (its settle frames cover each shutter change)."""
    strong_pump(sim_rig)
    camera, shutter = sim_rig.camera, sim_rig.pump_shutter
    calls: list[str] = []
    for obj, name in ((camera, "discard_pending"), (camera, "read"), (shutter, "open")):
        real = getattr(obj, name)

        def spy(*args: object, _real: Any = real, _name: str = name) -> Any:
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(obj, name, spy)
    camera.start()
    acquire_sums(sim_rig, n_pairs=4, scheme="chopper", dark=None, keep_armed=True)
    assert calls[:3] == ["open", "discard_pending", "read"]
    assert calls.count("discard_pending") == 1 and camera.acquiring
    calls.clear()
    acquire_sums(sim_rig, n_pairs=4, scheme="shutter", dark=None, keep_armed=True)
    assert calls[:3] == ["discard_pending", "open", "read"]
    assert calls.count("discard_pending") == 1
    camera.stop()


def test_acquire_point_negative_delay_has_no_signal(sim_rig: Rig) -> None:
    strong_pump(sim_rig)
    sim_rig.set_delay_fs(-1000.0)
    image = acquire_point(sim_rig, n_pairs=400, scheme="chopper", dark=None)
    assert abs(centre_value(image.dtt)) < 4 * centre_value(image.dtt_err)


def test_acquire_point_shutter_scheme(tmp_path: Path) -> None:
    path = write_variant(
        tmp_path, 'kind = "simulated.camera"', 'kind = "simulated.camera"\nchopper = false'
    )
    with build_rig(path) as rig:
        strong_pump(rig)
        rig.set_delay_fs(1000.0)
        image = acquire_point(rig, n_pairs=300, scheme="shutter", block_frames=50, dark=None)
        assert image.n_on >= 300 and image.n_off >= 300
        assert centre_value(image.dtt) > 5 * centre_value(image.dtt_err)
        assert not rig.pump_shutter.is_open()
        # No hardware tag: the chopper scheme refuses instead of guessing from parity.
        with pytest.raises(DeviceStateError, match="pump-state tag"):
            acquire_point(rig, n_pairs=10, scheme="chopper", dark=None)
        assert not rig.pump_shutter.is_open() and not rig.camera.acquiring


def test_should_stop_interrupts_with_pump_closed(sim_rig: Rig) -> None:
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    strong_pump(sim_rig)
    with pytest.raises(AcquisitionStopped):
        acquire_point(
            sim_rig, n_pairs=10_000, scheme="chopper", block_frames=32, dark=None, should_stop=stop
        )
    assert not sim_rig.pump_shutter.is_open()
    assert not sim_rig.camera.acquiring


def test_stuck_chopper_reference_is_a_fault_not_a_hang(
    sim_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    strong_pump(sim_rig)
    camera = sim_rig.camera
    real_read = camera.read

    def stuck(n_frames: int, timeout_s: float = 5.0) -> FrameBlock:
        block = real_read(n_frames, timeout_s)
        block.pump_on = np.ones(len(block), bool)  # the reference line reads "on" forever
        return block

    monkeypatch.setattr(camera, "read", stuck)
    with pytest.raises(DeviceStateError) as raised:
        acquire_point(sim_rig, n_pairs=20, scheme="chopper", block_frames=8, dark=None)
    # a running chopper needs 40 frames; the camera gets 4·20 + 2·8 = 96 and one block more
    assert str(raised.value) == (
        f"{camera.name}: pump-state tags stuck: 104 pump-on and 0 pump-off frames in 104 "
        "(is the chopper running and its reference wired?)"
    )
    assert not sim_rig.pump_shutter.is_open() and not camera.acquiring


def test_result_does_not_depend_on_the_number_of_threads() -> None:
    from tamrig.acquisition.accumulator import max_threads

    rng = np.random.default_rng(7)
    shape = (128, 128)  # several cache slabs; 80 frames: past PARALLEL_MIN_PIXELS
    h, w = shape
    data = rng.normal(2000.0, 10.0, (80, h, w)).astype(np.uint16)
    tags = np.arange(80) % 3 == 0
    results = []
    for threads in sorted({1, max_threads()}):
        acc = DifferentialAccumulator(shape, np.full(shape, 90.0), threads=threads)
        acc.add(block_of(data, tags), tags)
        results.append(acc.result())
    for other in results[1:]:
        np.testing.assert_allclose(other.dtt, results[0].dtt, rtol=0, atol=1e-12)
        np.testing.assert_allclose(other.dtt_err, results[0].dtt_err, rtol=1e-9)
    with pytest.raises(ValueError, match="threads"):
        DifferentialAccumulator(shape, threads=0)


def test_accumulated_uint32_frames_match_the_reference_far_below_shot_noise() -> None:
    """On-camera accumulation (K exposures summed, uint32, ~4e5 counts) over several
    cache slabs: the float32 frame means and centred sums stay exact where it matters."""
    rng = np.random.default_rng(11)
    shape, n = (128, 128), 64
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    spot = 1e-3 * np.exp(-((yy - 64) ** 2 + (xx - 64) ** 2) / (2 * 8.0**2))
    tags = np.arange(n) % 2 == 0
    power = 1.0 + 0.02 * rng.standard_normal(n)
    mean = 4e5 * power[:, None, None] * (1.0 + spot[None] * tags[:, None, None]) + 2e4
    data = rng.poisson(mean).astype(np.uint32)
    dark = np.full(shape, 2e4) + rng.normal(0, 5, shape)
    mask = border_mask(shape)
    acc = DifferentialAccumulator(shape, dark, norm_mask=mask)
    for start in range(0, n, 16):
        acc.add(
            block_of(data[start : start + 16], tags[start : start + 16]), tags[start : start + 16]
        )
    got = acc.result()
    ref = reference(data, tags, dark, mask)
    shot = float(np.median(got.dtt_err))  # ~4e-4 per pixel
    assert np.max(np.abs(got.dtt - ref["dtt"])) < 2e-3 * shot  # measured: 4e-5
    np.testing.assert_allclose(got.on_err, ref["on_err"], rtol=1e-3)
