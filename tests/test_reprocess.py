"""``tamrig reprocess``: ΔT/T re-formed from recorded raw frames, through the rig's accumulator."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from simulators.campaign import SAMPLES, SMALL, write_campaign
from tamrig.campaign.reprocess import ReprocessSettings, reprocess
from tamrig.campaign.runner import run_campaign
from tamrig.cli import main
from tamrig.errors import InputError
from tamrig.storage import layout as L
from tamrig.storage import open_scan


@pytest.fixture(scope="module")
def raw_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    (path,) = write_campaign(root, samples=SAMPLES[:1], n_abs=(0.18,), size=SMALL, raw_frames=True)
    return path


def _images(path: Path) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    with open_scan(path) as scan:
        points = scan.points()
        return points, [scan.dtt(int(i)) for i in points["index"]]


def _copy(raw_scan: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.h5"
    shutil.copy(raw_scan, target)
    return target


def test_default_settings_reproduce_the_recorded_dtt(raw_scan: Path, tmp_path: Path) -> None:
    """Same frames, same accumulator: the recorded ΔT/T again, whatever the chunk size dask
    reads the frames in (float32 sums in another grouping: a thousandth of the noise)."""
    _, recorded = _images(raw_scan)
    for chunk in (256, 5):
        out = tmp_path / f"re{chunk}.h5"
        result = reprocess(raw_scan, out, ReprocessSettings(chunk_frames=chunk))
        _, again = _images(out)
        assert result.n_points == len(recorded) and result.n_rejected == 0
        for a, b in zip(recorded, again, strict=True):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-7)
    with open_scan(out) as scan:
        source = scan.metadata["extra"]["reprocessed_from"]
    assert source["file"] == str(raw_scan.resolve())
    assert source["settings"]["chunk_frames"] == 5 and len(source["sha256"]) == 64


def test_roi_and_binning_keep_the_width(raw_scan: Path, tmp_path: Path) -> None:
    out = tmp_path / "binned.h5"
    reprocess(raw_scan, out, ReprocessSettings(roi=(8, 8, 48, 48), binning=2))
    with open_scan(raw_scan) as a, open_scan(out) as b:
        assert b.image_shape == (24, 24) and b.pixel_size_nm == 2 * a.pixel_size_nm
        pa, pb = a.points(), b.points()
    spot = (pa["delay_fs"] > 0) & (np.abs(pa["amplitude"]) > 10 * pa["amplitude_err"])
    ratio = pb["sigma_nm"][spot] / pa["sigma_nm"][spot]
    pull = (pb["sigma_nm"][spot] - pa["sigma_nm"][spot]) / pa["sigma_err_nm"][spot]
    assert spot.sum() >= 8
    assert abs(np.median(ratio) - 1) < 0.03 and np.all(np.abs(pull) < 5)


def test_outlier_frames_are_rejected(raw_scan: Path, tmp_path: Path) -> None:
    """A flash over part of the field in a few frames of one point spoils its ΔT/T (the
    per-frame probe normalisation cannot undo it) unless those frames are rejected."""
    spoiled = _copy(raw_scan, tmp_path)
    with h5py.File(spoiled, "r+") as f:
        owners = f[L.RAW_COMMIT][()]
        frames = np.flatnonzero(owners == 4)[:3]
        for k in frames:
            frame = f[L.RAW_DATA][k]
            frame[20:40, 20:40] = frame[20:40, 20:40] * 1.05
            f[L.RAW_DATA][k] = frame
    _, clean = _images(raw_scan)
    plain = tmp_path / "plain.h5"
    reprocess(spoiled, plain)
    rejected = tmp_path / "rejected.h5"
    result = reprocess(spoiled, rejected, ReprocessSettings(outlier_sigma=6.0))
    assert result.n_rejected == 3
    clean_run = reprocess(raw_scan, tmp_path / "clean.h5", ReprocessSettings(outlier_sigma=6.0))
    assert clean_run.n_rejected == 0  # shot noise alone is no outlier
    _, bad = _images(plain)
    _, good = _images(rejected)
    noise = float(np.std(clean[4][:8, :8]))
    assert np.abs(bad[4] - clean[4]).max() > 10 * noise
    assert np.abs(good[4] - clean[4]).max() < 5 * noise


def test_hot_pixels_are_repaired(raw_scan: Path, tmp_path: Path) -> None:
    spoiled = _copy(raw_scan, tmp_path)
    rng = np.random.default_rng(3)
    with h5py.File(spoiled, "r+") as f:
        data = f[L.RAW_DATA]
        data[:, 10, 12] = data[:, 10, 12] + rng.integers(0, 60_000, data.shape[0]).astype(np.uint32)
        dark = f[f"{L.IMAGES}/dark_mean"]
        dark[:, 10, 12] = dark[:, 10, 12] + 30_000
    plain, repaired = tmp_path / "plain.h5", tmp_path / "repaired.h5"
    reprocess(spoiled, plain)
    result = reprocess(spoiled, repaired, ReprocessSettings(hot_pixel_sigma=8.0))
    assert result.hot_pixels == 1
    with open_scan(plain) as a, open_scan(repaired) as b:
        err_plain = a.dtt_err(0)
        err_fixed = b.dtt_err(0)
    typical = np.median(err_fixed)
    assert err_plain[10, 12] > 10 * typical
    assert err_fixed[10, 12] < 3 * typical


def test_drift_correction_centres_the_roi_on_the_spot(raw_scan: Path, tmp_path: Path) -> None:
    out = tmp_path / "drift.h5"
    reprocess(raw_scan, out, ReprocessSettings(roi=(0, 0, 32, 32), drift=True))
    with open_scan(out) as scan:
        p = scan.points()
        a = scan.pixel_size_nm
    spot = (p["delay_fs"] > 0) & (np.abs(p["amplitude"]) > 10 * p["amplitude_err"])
    assert spot.sum() >= 8  # an ROI in the corner would have missed the spot entirely
    assert np.all(np.abs(p["x0_nm"][spot] - 16 * a) < 2 * a)
    assert np.all(np.abs(p["y0_nm"][spot] - 16 * a) < 2 * a)


def test_a_reprocessed_file_is_analysed_like_any_scan(raw_scan: Path, tmp_path: Path) -> None:
    out = tmp_path / "scans" / "binned.h5"
    out.parent.mkdir()
    reprocess(raw_scan, out, ReprocessSettings(binning=2))
    result = run_campaign([out], tmp_path / "report", draw=False)
    assert list(result.table["status"]) == ["ok"]
    assert result.table["sample"].iloc[0] == "CQD"


def test_bad_settings_and_files_without_frames_touch_nothing(
    raw_scan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new.h5"
    with pytest.raises(InputError, match="roi"):
        reprocess(raw_scan, out, ReprocessSettings(roi=(40, 40, 32, 32)))
    with pytest.raises(InputError, match="drift"):
        reprocess(raw_scan, out, ReprocessSettings(drift=True))
    plain = tmp_path / "plain.h5"
    reprocess(raw_scan, plain)  # written without raw frames
    with pytest.raises(InputError, match="no raw frames"):
        reprocess(plain, out)
    assert not out.exists()
    assert main(["reprocess", str(raw_scan), "--out", str(out), "--bin", "0"]) == 2
    assert "binning" in capsys.readouterr().err and not out.exists()
    assert main(["reprocess", str(raw_scan), "--out", str(out), "--bin", "2"]) == 0
    assert "points re-formed" in capsys.readouterr().out


def test_a_damaged_or_cut_source_is_refused_untouched(
    raw_scan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from tamrig.storage import soundness

    out = tmp_path / "new.h5"
    cut = tmp_path / "cut.h5"
    cut.write_bytes(raw_scan.read_bytes()[:4096])
    with pytest.raises(InputError, match=r"cut\.h5"):
        reprocess(cut, out)
    assert not out.exists() and cut.stat().st_size == 4096
    # a file shorter than its recorded end (a disk that filled up): recover it first
    real = soundness.check_scan_file
    monkeypatch.setattr(
        soundness,
        "check_scan_file",
        lambda path: dataclasses.replace(real(path), truncated=True),
    )
    with pytest.raises(InputError, match=r"shorter than its recorded end") as refused:
        reprocess(raw_scan, out)
    assert f"tamrig recover {raw_scan}" in str(refused.value)
    assert not out.exists()
