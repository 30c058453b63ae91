"""The simulated camera's slab-by-slab frame synthesis draws exactly the frames of the plain
whole-block one it replaced, bit for bit and from the same random stream (every seeded
test, the demo's numbers and the benchmarks depend on those streams).

The plain synthesis is kept below verbatim as the reference; each case drives two rigs with
the same seed through the same session, one with the reference swapped in.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from test_sim_support import sim_rig

import simulators.devices.camera as camera_module
from simulators.devices.camera import ADC_MAX, FORMAT_SHIFT, POISSON_LIMIT_E
from tamrig.devices import Roi
from tamrig.rig import Rig

# -- the reference: the whole-block synthesis as it was, `self` renamed `cam` -------------


def reference_expose(
    cam: Any,
    ids: npt.NDArray[np.int64],
    times: npt.NDArray[np.float64],
    pump_on: npt.NDArray[np.bool_] | None,
) -> np.ndarray:
    s, c, world = cam.settings, cam._config, cam.world
    k = cam._accumulate
    ys, xs, profile = cam._grid()
    n = ids.size
    tagged = pump_on if pump_on is not None else np.ones(n, dtype=bool)
    pump = tagged & world.shutter_open("pump_shutter")
    peak_e = s.probe_peak_counts * c.exposure_us / s.exposure_us * s.electrons_per_count
    if not world.shutter_open("probe_shutter"):
        peak_e = 0.0
    t_mean = reference_mean_exposure_time(cam, ids, times)
    drift = 1.0 + s.drift_amplitude * np.sin(2 * math.pi * t_mean / s.drift_period_s)
    mean = np.empty((n, *profile.shape))
    np.multiply((k * peak_e * drift)[:, None, None], profile[None, :, :], out=mean)
    if pump.any() and peak_e > 0:
        mean[pump] *= 1.0 + reference_dtt(cam, t_mean[pump], ys, xs)
    np.minimum(mean, k * s.full_well_e, out=mean)
    counts = reference_photo_electrons(cam, mean, s.read_noise_e * math.sqrt(k))
    counts *= 1.0 / s.electrons_per_count
    counts += k * s.dark_counts
    np.rint(counts, out=counts)
    np.clip(counts, 0, k * ADC_MAX, out=counts)
    shift = FORMAT_SHIFT[c.pixel_format]
    if shift:
        np.floor_divide(counts, 2**shift, out=counts)
    return counts.astype(np.uint16 if k == 1 else np.uint32)


def reference_photo_electrons(cam: Any, mean: np.ndarray, read_sd: float) -> np.ndarray:
    sd = np.sqrt(mean + read_sd**2)
    electrons = cam.rng.standard_normal(mean.shape)
    electrons *= sd
    electrons += mean
    dim = mean < POISSON_LIMIT_E
    if dim.any():
        m = mean[dim]
        electrons[dim] = cam.rng.poisson(m) + cam.rng.standard_normal(m.shape) * read_sd
    return electrons


def reference_mean_exposure_time(
    cam: Any, ids: npt.NDArray[np.int64], times: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    k, rate = cam._accumulate, cam._config.frame_rate_hz
    if not cam.settings.chopper:
        return times - k / (2 * rate)
    second = (ids + cam._chopper_phase) % 2
    return times - second * k / rate + (second - 0.5) / rate


def reference_dtt(
    cam: Any, times: npt.NDArray[np.float64], ys: np.ndarray, xs: np.ndarray
) -> npt.NDArray[np.float64]:
    s, world = cam.settings, cam.world
    args = (world.delay_fs(), world.n_abs(), world.probe_wavelength_nm())
    bandwidth = world.probe_bandwidth_nm()
    if s.centre_drift_nm_per_s == 0:
        r2 = ys[:, None] ** 2 + xs[None, :] ** 2
        image = reference_dtt_image(world.sample, *args, r2, bandwidth_nm=bandwidth)
        return np.broadcast_to(image, (times.size, *image.shape))
    angle = math.radians(s.centre_drift_angle_deg)
    shift = s.centre_drift_nm_per_s * times
    dx = (xs[None, :] - (shift * math.cos(angle))[:, None])[:, None, :]
    dy = (ys[None, :] - (shift * math.sin(angle))[:, None])[:, :, None]
    return reference_dtt_image(world.sample, *args, dx**2 + dy**2, bandwidth_nm=bandwidth)


def reference_irf_ages(sample: Any, delay_fs: float, n_irf: int = 16) -> tuple[Any, Any]:
    sd = sample.settings.irf_fwhm_fs / (2 * math.sqrt(2 * math.log(2)))
    lo, hi = max(0.0, delay_fs - 5 * sd), delay_fs + 5 * sd
    if hi <= 0:
        return np.zeros(0), np.zeros(0)
    x, w = np.polynomial.legendre.leggauss(n_irf)
    ages = lo + (x + 1) * (hi - lo) / 2
    pdf = np.exp(-0.5 * ((delay_fs - ages) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    return ages, w * (hi - lo) / 2 * pdf


def reference_dtt_image(
    sample: Any,
    delay_fs: float,
    n_abs: float,
    probe_nm: float,
    r2_nm2: npt.NDArray[np.float64],
    n_irf: int = 16,
    bandwidth_nm: float = 0.0,
) -> npt.NDArray[np.float64]:
    ages, weights = reference_irf_ages(sample, delay_fs, n_irf)
    amps = sample.amplitude(ages, n_abs, probe_nm, bandwidth_nm)
    sig2 = sample.sigma2_nm2(ages, n_abs)
    s0 = sample.settings.sigma0_nm**2
    image = np.zeros_like(r2_nm2, dtype=float)
    for w, a, s2 in zip(weights, amps, sig2, strict=True):
        if w * a != 0.0:
            image += w * a * (s0 / s2) * np.exp(-r2_nm2 / (2 * s2))
    return image


# -- one session, driven identically on both rigs -------------------------------------------

Block = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def session(
    rig: Rig,
    *,
    accumulate: int = 1,
    pixel_format: str = "Mono12",
    roi: Roi | None = None,
    settings: dict[str, Any] | None = None,
    reads: tuple[int, ...] = (1, 7, 64),
    faults: bool = False,
) -> list[Block]:
    """Dark frames, probe only, pump through the sample at two delays, optional faults."""
    cam = rig.camera
    if settings:
        cam.settings = cam.settings.model_copy(update=settings)
    cam.set_accumulate(accumulate)  # type: ignore[attr-defined]
    cam.configure(roi=roi, pixel_format=pixel_format)  # type: ignore[arg-type]
    blocks: list[Block] = []

    def read(n: int) -> None:
        b = cam.read(n)
        blocks.append((b.data, b.frame_id, b.timestamp_s, b.pump_on))

    cam.start()
    read(reads[-1])  # probe shutter closed: dark frames
    rig.probe_shutter.open()  # type: ignore[union-attr]
    for n in reads:
        read(n)  # pump shutter closed
    rig.open_pump()
    for delay in (300.0, 5000.0):
        rig.set_delay_fs(delay)
        for n in reads:
            read(n)
    if faults:
        cam.inject_fault("drop_frames", frames=3)  # type: ignore[attr-defined]
        read(reads[-1])
        cam.inject_fault("late_frames", delay_s=0.5)  # type: ignore[attr-defined]
        read(reads[-1])
    rig.close_pump()
    read(reads[-1])
    cam.stop()
    return blocks


class Run:
    """The session on the current synthesis and on the reference, the streams' end states,
    and which kinds of dim-pixel patches the current synthesis made ("slab": every pixel of
    a slab, "some": some pixels of a slab)."""

    def __init__(self, seed: int, **case: Any) -> None:
        runs, states = [], []
        self.patches: set[str] = set()
        for swap in (False, True):
            with sim_rig(seed=seed) as rig:
                cam: Any = rig.camera
                if swap:
                    cam._expose = lambda *a, cam=cam: reference_expose(cam, *a)
                else:
                    patch = cam._patch_dim_pixels

                    def spy(out: Any, dim: list[Any], *rest: Any, patch: Any = patch) -> None:
                        self.patches.update("slab" if d[1] is None else "some" for d in dim)
                        patch(out, dim, *rest)

                    cam._patch_dim_pixels = spy
                runs.append(session(rig, **case))
                states.append(cam.rng.bit_generator.state)
        self.new, self.old = runs
        self.same_stream_after = states[0] == states[1]


def assert_identical(new: list[Block], old: list[Block]) -> None:
    assert len(new) == len(old)
    for i, (a, b) in enumerate(zip(new, old, strict=True)):
        assert a[0].dtype == b[0].dtype and a[0].shape == b[0].shape, f"block {i}"
        assert np.array_equal(a[0], b[0]), f"block {i}: {np.count_nonzero(a[0] != b[0])} pixels"
        for x, y in zip(a[1:], b[1:], strict=True):
            assert (x is None and y is None) or np.array_equal(x, y), f"block {i}"  # type: ignore[arg-type]


# Across the sensor's 25.6 µm the 8 µm probe falls to 28 % at the edges and 8 % in the corners:
DIM = {"probe_peak_counts": 300.0}  # peak 14 700 e⁻: bright centre, dim (Poisson) wings
CASES: dict[str, dict[str, Any]] = {
    "chopped single exposures": {},
    "accumulated, chopper off": {"accumulate": 3, "settings": {"chopper": False}},
    "accumulated 200, chopped": {"accumulate": 200, "reads": (2, 10)},
    "Mono8 (shifted) with faults": {"pixel_format": "Mono8", "faults": True},
    "Mono16, saturating": {"pixel_format": "Mono16", "settings": {"probe_peak_counts": 6000.0}},
    "full well reached": {"accumulate": 2, "settings": {"full_well_e": 1.0e5}},
    "dim wings, frames in row bands": {
        "roi": Roi(0, 0, 512, 512),
        "settings": DIM,
        "reads": (1, 3),
    },
    "dim wings, whole frames, accumulated": {
        "accumulate": 4,  # peak 19 600 e⁻, edges 5 400 e⁻
        "roi": Roi(0, 252, 512, 8),
        "settings": {"probe_peak_counts": 100.0},
        "reads": (2, 5),
    },
    "all dim, faults": {"settings": {"probe_peak_counts": 100.0}, "faults": True},
    "pump centre drifting": {
        "settings": {"centre_drift_nm_per_s": 500.0, "centre_drift_angle_deg": 20.0},
        "reads": (1, 9, 30),
    },
    "odd ROI": {"roi": Roi(201, 190, 37, 23), "reads": (1, 13)},
}


@pytest.mark.parametrize("seed", [1, 20261125])
@pytest.mark.parametrize("case", list(CASES))
def test_frames_match_the_whole_block_synthesis_bit_for_bit(seed: int, case: str) -> None:
    run = Run(seed, **CASES[case])
    assert_identical(run.new, run.old)
    assert run.same_stream_after  # the stream goes on identically after the session
    # dark frames are dim everywhere; the dim cases also have bright and dim pixels in a slab
    assert run.patches == ({"slab", "some"} if case.startswith("dim") else {"slab"})


@pytest.mark.parametrize("slab", [300, 1000, 4096, 100_000])
@pytest.mark.parametrize("case", ["dim wings, whole frames, accumulated", "pump centre drifting"])
def test_slab_size_changes_nothing(monkeypatch: pytest.MonkeyPatch, slab: int, case: str) -> None:
    """Slabs of one row (narrower than a 512-pixel row: the row itself), of row bands,
    of one frame, of several frames or of the whole block."""
    monkeypatch.setattr(camera_module, "SLAB_PIXELS", slab)
    run = Run(7, **CASES[case])
    assert_identical(run.new, run.old)


@pytest.mark.parametrize("delay", [-200.0, -20.0, 0.0, 12.5, 300.0, 5000.0, 2e6])
def test_dtt_image_matches_the_plain_sum_bit_for_bit(delay: float) -> None:
    """The sample's ΔT/T image (cached quadrature nodes, one buffer for every age) against
    its plain form, on a grid with r = 0, a drifting-centre stack and a probe band."""
    with sim_rig(seed=5) as rig:
        sample: Any = rig.camera.world.sample  # type: ignore[attr-defined]
        ys = (np.arange(-20, 21) * 50.0)[:, None]
        r2 = ys**2 + (np.arange(-30, 31) * 37.0)[None, :] ** 2
        stack = (ys[None] - np.array([0.0, 33.0, 81.0])[:, None, None]) ** 2 + r2[None] * 0.5
        for n_abs, probe, band in ((0.045, 905.0, 0.0), (0.18, 565.0, 12.0)):
            for grid in (r2, stack):
                new = sample.dtt_image(delay, n_abs, probe, grid, bandwidth_nm=band)
                old = reference_dtt_image(sample, delay, n_abs, probe, grid, bandwidth_nm=band)
                assert new.shape == old.shape and np.array_equal(new, old)
                assert delay < -100 or np.any(new != 0)  # a signal, not two empty images
