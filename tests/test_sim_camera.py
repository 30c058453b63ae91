"""The simulated camera driven like an experiment: raw counts, noise, tags, gating, physics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import write_variant
from test_sim_support import (
    FAST_ACCUMULATE,
    border,
    dark_frame,
    fit_sigma,
    measure_dtt,
    read_frames,
    set_n_abs,
    sim_rig,
)

from simulators.world import World
from tamrig.errors import DeviceStateError

PIXEL_NM = 50.0


def test_frames_are_raw_12_bit_counts_with_dark_offset_and_tags() -> None:
    with sim_rig() as rig:
        cam = rig.camera
        cam.start()
        dark = cam.read(8)
        rig.probe_shutter.open()  # type: ignore[union-attr]
        block = cam.read(8)
        cam.stop()
    assert block.data.dtype == np.uint16 and block.data.max() <= 4095
    assert dark.data.mean() == pytest.approx(100.0, abs=0.5)  # dark offset
    assert dark.data.std() == pytest.approx(200 / 49, rel=0.1)  # read noise in counts
    assert float(block.data.max()) == pytest.approx(2600, rel=0.05)  # probe peak + dark
    assert block.pump_on is not None
    assert np.all(block.pump_on[1:] != block.pump_on[:-1])  # chopper at half the frame rate
    assert np.array_equal(block.frame_id, np.arange(block.frame_id[0], block.frame_id[0] + 8))
    assert np.allclose(np.diff(block.timestamp_s), 1 / 200.0)


def test_pump_tags_shared_between_blocks_are_read_only() -> None:
    """Blocks of one size share their tag arrays (made once): a consumer writing into one
    would change every other block's tags, so the write must fail."""
    with sim_rig() as rig:
        cam = rig.camera
        cam.start()
        first, second = cam.read(4), cam.read(4)
        cam.stop()
    assert first.pump_on is not None and second.pump_on is not None
    assert np.array_equal(first.pump_on, second.pump_on)  # 4 frames: the same phase
    with pytest.raises(ValueError, match="read-only"):
        first.pump_on[0] = not first.pump_on[0]
    assert first.frame_id.flags.writeable and first.timestamp_s.flags.writeable  # the block's own


def test_chopper_phase_is_not_frame_parity() -> None:
    phases = set()
    with sim_rig() as rig:
        for _ in range(12):
            rig.camera.start()
            b = rig.camera.read(2)
            rig.camera.stop()
            assert b.pump_on is not None
            phases.add(bool(b.pump_on[0]) == bool(b.frame_id[0] % 2 == 0))
    assert phases == {True, False}


def test_shot_and_read_noise_statistics_with_accumulation() -> None:
    """Variance of a pixel over frames = K (λ + r²)/g² counts² (Poisson sum + read noise)."""
    k = 50
    with sim_rig(camera_accumulate=k) as rig:
        rig.camera.start()
        rig.probe_shutter.open()  # type: ignore[union-attr]
        frames, _ = read_frames(rig, 400)
        rig.camera.stop()
    assert frames.max() > 65535 or k * 4095 > 65535  # wider output than 16 bit is needed
    centre = frames[:, 28:36, 28:36]
    mean_e = (centre.mean(0) - k * 100.0) * 49.0
    # difference frames of the same chopper phase, minus the patch mean (slow probe drift)
    diff = centre[2:] - centre[:-2]
    diff -= diff.mean(axis=(1, 2), keepdims=True)
    var_counts = diff.var(0).mean() / 2 * 64 / 63
    expected = (mean_e.mean() + k * 200.0**2) / 49.0**2
    assert var_counts == pytest.approx(expected, rel=0.06)


def test_saturation_at_12_bits_per_exposure(tmp_path: Path) -> None:
    rig_file = write_variant(tmp_path, "frame_rate_hz = 200.0", "probe_peak_counts = 6000.0")
    for k in (1, 7):
        with sim_rig(rig_file, camera_accumulate=k) as rig:
            rig.camera.start()
            rig.probe_shutter.open()  # type: ignore[union-attr]
            data = rig.camera.read(4).data
            rig.camera.stop()
        assert data.max() == k * 4095
        assert data.dtype == (np.uint16 if k == 1 else np.uint32)


def test_probe_shutter_closed_gives_dark_frames_pump_shutter_gates_the_signal() -> None:
    with sim_rig(camera_accumulate=FAST_ACCUMULATE) as rig:
        set_n_abs(rig, 0.09)
        rig.camera.start()
        dark = dark_frame(rig)
        assert dark.mean() == pytest.approx(FAST_ACCUMULATE * 100.0, rel=1e-3)
        on, err = measure_dtt(rig, 300.0, dark=dark)
        # pump shutter stays closed: same measurement without rig.open_pump()
        rig.probe_shutter.open()  # type: ignore[union-attr]
        frames, tags = read_frames(rig, 140)
        rig.camera.stop()
    frames -= dark
    frames /= frames[:, border(frames.shape)].mean(axis=1)[:, None, None]
    off = frames[tags].mean(0) / frames[~tags].mean(0) - 1
    assert on[30:34, 30:34].mean() > 20 * err[30:34, 30:34].mean()
    chi2 = np.mean((off / err) ** 2)
    assert chi2 == pytest.approx(1.0, abs=0.15)  # pure noise, no pump signal


def test_reference_noise_is_reached_with_accumulation() -> None:
    """docs/simulator.md's 2.5e-5 per pixel: 70 pairs of 500-exposure frames."""
    with sim_rig(camera_accumulate=FAST_ACCUMULATE) as rig:
        set_n_abs(rig, 0.045)
        dtt, err = measure_dtt(rig, -1000.0)
    assert np.std(dtt) == pytest.approx(2.5e-5, rel=0.1)
    assert np.median(err) == pytest.approx(np.std(dtt), rel=0.1)


@pytest.mark.parametrize(("wavelength", "sign"), [(905.0, 1), (690.0, -1), (670.0, -1), (565.0, 0)])
def test_signal_sign_follows_the_probe_wavelength(wavelength: float, sign: int) -> None:
    with sim_rig(camera_accumulate=FAST_ACCUMULATE) as rig:
        set_n_abs(rig, 0.09)
        assert rig.wavelength_selector is not None
        rig.wavelength_selector.set_wavelength_nm(wavelength)
        dtt, err = measure_dtt(rig, 300.0)
    centre = dtt[29:35, 29:35].mean()
    noise = err[29:35, 29:35].mean() / 6
    if sign == 0:
        assert abs(centre) < 4 * noise
    else:
        assert sign * centre > 50 * noise


def test_perovskite_bleach_appears_at_565_nm_for_qdip90() -> None:
    with sim_rig(camera_accumulate=FAST_ACCUMULATE, sample={"preset": "qdip90"}) as rig:
        set_n_abs(rig, 0.09)
        rig.wavelength_selector.set_wavelength_nm(565.0)  # type: ignore[union-attr]
        dtt, err = measure_dtt(rig, 300.0)
    assert dtt[29:35, 29:35].mean() > 50 * err[29:35, 29:35].mean() / 6


def test_width_grows_with_delay_as_the_model_says() -> None:
    delays = [0.0, 300.0, 10e3, 1e6]
    with sim_rig(camera_accumulate=4 * FAST_ACCUMULATE) as rig:
        set_n_abs(rig, 0.09)
        world = World.of(rig)
        fits = []
        for d in delays:
            dtt, err = measure_dtt(rig, d)
            fits.append(fit_sigma(dtt, PIXEL_NM, err))
        model = [math.sqrt(world.sample.sigma2_nm2(d, world.n_abs())) for d in delays]
    sigmas = [f["sigma"] for f in fits]
    assert sigmas == sorted(sigmas)
    for fit, expected in zip(fits, model, strict=True):
        assert fit["sigma"] == pytest.approx(expected, abs=max(1.5, 4 * fit["sigma_err"]))


def test_same_seed_same_frames_other_seed_other_frames() -> None:
    def run(seed: int) -> bytes:
        with sim_rig(seed=seed) as rig:
            rig.camera.start()
            rig.probe_shutter.open()  # type: ignore[union-attr]
            rig.open_pump()
            rig.set_delay_fs(200.0)
            data = rig.camera.read(6).data.tobytes()
            rig.close_pump()
            rig.camera.stop()
            return data

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_probe_power_drifts_slowly() -> None:
    with sim_rig(camera_accumulate=1000) as rig:  # 5 s per frame: 36 frames = 3 minutes
        rig.probe_shutter.open()  # type: ignore[union-attr]
        rig.camera.start()
        frames, _ = read_frames(rig, 36)
        rig.camera.stop()
    level = frames.mean(axis=(1, 2))
    relative = level / level.mean() - 1
    assert 0.01 < relative.max() - relative.min() < 0.03  # ±1 % drift over a 60 s period
    assert np.abs(np.diff(relative)).max() < 0.01  # slow from frame to frame


def test_beam_centre_drift_moves_the_signal(tmp_path: Path) -> None:
    rig_file = write_variant(
        tmp_path, "frame_rate_hz = 200.0", "centre_drift_nm_per_s = 0.2\ncentre_drift_angle_deg = 0"
    )
    with sim_rig(rig_file, camera_accumulate=FAST_ACCUMULATE) as rig:
        set_n_abs(rig, 0.09)
        clock = World.of(rig).clock
        fits, mid_times = [], []
        for _ in range(2):
            start = clock.now()
            dtt, err = measure_dtt(rig, 300.0)
            fits.append(fit_sigma(dtt, PIXEL_NM, err))
            mid_times.append((start + clock.now()) / 2)
    moved = fits[1]["x0"] - fits[0]["x0"]
    assert moved == pytest.approx(0.2 * (mid_times[1] - mid_times[0]), rel=0.1)
    assert abs(moved) > 20 * fits[0]["x0_err"]


def test_settings_locked_while_acquiring() -> None:
    with sim_rig() as rig:
        rig.camera.start()
        with pytest.raises(DeviceStateError):
            rig.camera.configure(exposure_us=1000.0)
        with pytest.raises(DeviceStateError):
            rig.camera.set_accumulate(10)  # type: ignore[attr-defined]
        rig.camera.stop()


def test_signal_scales_with_the_power_the_meter_reads() -> None:
    """Turning the half-wave plate changes ΔT/T exactly as much as the power meter says."""
    with sim_rig(camera_accumulate=FAST_ACCUMULATE) as rig:
        att, meter = rig.attenuator, rig.power_meter
        assert att is not None and meter is not None
        meter.averaging = 1000
        populations, powers = [], []
        for angle in (30.0, 38.0):
            att.set_setting(angle)
            powers.append(meter.read_power_w())
            dtt, err = measure_dtt(rig, 5000.0)
            fit = fit_sigma(dtt, PIXEL_NM, err)
            # population = peak × σ² (the Auger-assisted spread grows with N_abs too)
            populations.append(fit["amp"] * fit["sigma"] ** 2)
    assert populations[0] / populations[1] == pytest.approx(powers[0] / powers[1], rel=0.03)


def test_signal_rises_with_the_40_fs_instrument_response() -> None:
    """Peak ΔT/T against delay follows the population rise Φ(t/sd), sd = 40 fs/2.355."""
    delays = np.arange(-60.0, 61.0, 10.0)
    with sim_rig(camera_accumulate=FAST_ACCUMULATE) as rig:
        set_n_abs(rig, 0.18)
        world = World.of(rig)
        measured, model = [], []
        for delay in delays:
            dtt, err = measure_dtt(rig, float(delay))
            measured.append((dtt[29:35, 29:35].mean(), err[29:35, 29:35].mean() / 6))
            ys = (np.arange(224, 288) - 255.5) * PIXEL_NM
            r2 = ys[29:35, None] ** 2 + ys[None, 29:35] ** 2
            model.append(
                world.sample.dtt_image(delay, world.n_abs(), 905.0, r2, bandwidth_nm=10).mean()
            )
    for (value, err), expected in zip(measured, model, strict=True):
        assert value == pytest.approx(expected, abs=4 * err)
    values = np.array([m[0] for m in measured])
    assert abs(values[0]) < 4 * measured[0][1]  # nothing 60 fs before time zero
    assert values[6] == pytest.approx(values[-1] / 2, rel=0.1)  # half-way at zero delay
