"""``tamrig analyze`` end to end: simulated images → live monitor → scan file → report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulators.sample import SampleSettings, VirtualSample
from tamrig.analysis.monitor import LiveMonitor
from tamrig.cli import main
from tamrig.records import DifferentialImage, PointRecord
from tamrig.storage import ScanMetadata, ScanWriter

PIXEL_NM = 50.0
SHAPE = (32, 32)
NOISE = 2.5e-5  # docs/simulator.md reference noise per pixel
FLUENCES = (0.045, 0.09, 0.18)


def delay_grid() -> np.ndarray:
    return np.concatenate(
        [
            np.linspace(-1000.0, -250.0, 4),
            np.arange(-200.0, 1000.0, 20.0),
            np.arange(1500.0, 10001.0, 500.0),
            np.geomspace(1.2e4, 2.0e6, 30),
        ]
    )


def write_scan(
    path: Path,
    preset: str,
    *,
    fluences: tuple[float, ...] = FLUENCES,
    sweeps: int = 2,
    probe_nm: float = 905.0,
    seed: int = 0,
    late: bool = True,
) -> None:
    """A scan as the engine would write it: every image fitted live, point by point.

    The lowest fluence gets ``sweeps`` sweeps and the full grid; the others one sweep of
    the σ₀ window and the slow regimes only, which keeps the file small. Without ``late``
    only delays up to 2 ps are written.
    """
    sample = VirtualSample(SampleSettings(preset=preset))
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(float)
    r2 = ((x - 15.6) ** 2 + (y - 16.3) ** 2) * PIXEL_NM**2
    delays = delay_grid() if late else delay_grid()[delay_grid() <= 2000.0]
    sparse = delays[(delays <= 60.0) | (delays >= 800.0)]
    n_points = sweeps * delays.size + (len(fluences) - 1) * sparse.size
    md = ScanMetadata(
        program_version="test",
        rig_path="config/rigs/simulated.toml",
        rig_text="",
        rig={"rig": {"temperature_k": 300.0}, "simulation": {"sample": {"preset": preset}}},
        plan={"name": f"{preset} test scan"},
        devices={},
        image_shape=SHAPE,
        pixel_size_nm=PIXEL_NM,
        n_points_planned=n_points,
        sample={"name": preset},
    )
    monitor = LiveMonitor(PIXEL_NM)
    err = np.full(SHAPE, NOISE)
    index = 0
    with ScanWriter.create(path, md) as writer:
        for sweep in range(sweeps):
            for fi, n_abs in enumerate(fluences):
                if sweep > 0 and fi > 0:
                    continue
                label = f"N={n_abs:g}"
                grid = delays if fi == 0 else sparse
                for di in rng.permutation(grid.size):  # randomised order per sweep
                    delay = float(grid[di])
                    dtt = sample.dtt_image(delay, n_abs, probe_nm, r2)
                    dtt = dtt + rng.normal(0.0, NOISE, SHAPE)
                    image = DifferentialImage(
                        dtt=dtt,
                        dtt_err=err,
                        on_mean=np.ones(SHAPE),
                        off_mean=np.ones(SHAPE),
                        on_err=err,
                        off_err=err,
                        n_on=500,
                        n_off=500,
                    )
                    fit, transport = monitor.update(
                        delay_fs=delay, series=f"{probe_nm:g}/{label}", image=image
                    )
                    writer.write_point(
                        PointRecord(
                            index=index,
                            grid=(sweep, 0, fi, int(di)),
                            delay_fs=delay,
                            delay_fs_measured=delay,
                            fluence_label=label,
                            fluence_uj_cm2=n_abs * 358.0,
                            n_abs=n_abs,
                            attenuator_setting=0.0,
                            probe_wavelength_nm=probe_nm,
                            image=image,
                            fit=fit,
                            transport=transport,
                        )
                    )
                    index += 1
        writer.finish("finished")


@pytest.fixture(scope="module")
def cqd_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scan") / "cqd.h5"
    write_scan(path, "cqd")
    return path


def test_analyze_reports_the_cqd_targets(
    cqd_scan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report"
    assert main(["analyze", str(cqd_scan), "--report", str(report), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sample"] == "cqd" and summary["temperature_k"] == 300.0
    rows = {r["n_abs"]: r for r in summary["series"]}
    assert sorted(rows) == list(FLUENCES)
    low = rows[0.045]
    assert low["sigma0"]["value_nm"] == pytest.approx(141.0, abs=3.0)
    peak = low["peak"]
    assert peak["found"], peak["verdict"]
    assert peak["d_peak_cm2_s"] == pytest.approx(102.0, abs=15.0)
    assert peak["t_peak_fs"] == pytest.approx(300.0, abs=40.0)
    assert peak["length_nm"] == pytest.approx(78.0, abs=4.0)
    assert peak["mobility_cm2_vs"] == pytest.approx(3.95e3, rel=0.15)
    assert low["early_power_law"]["alpha"] > 1.0
    peaks = summary["peak_fluence_trend"]["905"]
    assert peaks["n_abs"] == list(FLUENCES) and peaks["d_peak_cm2_s"][0] == peak["d_peak_cm2_s"]
    trend = summary["fluence"]["905"]
    assert trend["growth_increases_with_n_abs"]
    assert trend["d_hop_consistent"]
    for r in rows.values():
        assert r["hopping"]["d_hop_cm2_s"] == pytest.approx(0.020, abs=0.004)
    # the simulated stage is at true zero and the instrument response is 40 fs FWHM
    # (only the lowest fluence samples the rise finely in this file)
    assert low["time_zero"]["ok"]
    assert low["time_zero"]["t0_fs"] == pytest.approx(0.0, abs=6.0)
    assert low["time_zero"]["irf_fwhm_fs"] == pytest.approx(40.0, rel=0.15)
    files = sorted(p.name for p in report.iterdir())
    assert files == [
        "cqd_905nm_diffusivity.png",
        "cqd_905nm_length.png",
        "cqd_905nm_msd.png",
        "summary.json",
    ]
    for name in files[:3]:
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (report / name).stat().st_size > 10_000


def test_analyze_prints_a_table(cqd_scan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(cqd_scan), "--dot-pitch-nm", "3.3"]) == 0
    out = capsys.readouterr().out
    assert "905 nm / N=0.045" in out and "905 nm / N=0.18" in out
    assert "super-diffusive peak at" in out
    assert "Auger growth increases with N_abs: yes" in out
    assert "the same at every fluence" in out
    assert "super-diffusive peak vs fluence, probe 905 nm" in out


def test_analyze_qdip90_says_no_superdiffusive_regime_and_compares_samples(
    cqd_scan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "qdip90.h5"
    write_scan(path, "qdip90", fluences=(0.045,), sweeps=1, seed=3, late=False)
    assert main(["analyze", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (row,) = summary["series"]
    assert not row["peak"]["found"]
    assert row["peak"]["verdict"].startswith("no super-diffusive regime")
    # two samples in one report: per-sample figures plus the comparison
    report = tmp_path / "both"
    assert main(["analyze", str(cqd_scan), str(path), "--report", str(report), "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert [s["sample"] for s in both["samples"]] == ["cqd", "qdip90"]
    names = {p.name for p in report.iterdir()}
    assert {"samples_compared.png", "qdip90_905nm_msd.png", "cqd_905nm_msd.png"} <= names


def test_missing_file_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope.h5")]) == 2
    err = capsys.readouterr().err
    assert "nope.h5" in err and "no such file" in err


def test_not_a_scan_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.h5"
    bogus.write_bytes(b"not hdf5")
    assert main(["analyze", str(bogus)]) != 0
    assert "bogus.h5" in capsys.readouterr().err


def test_bad_dot_pitch_is_an_input_error(
    cqd_scan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(cqd_scan), "--dot-pitch-nm", "0"]) == 2
    assert "--dot-pitch-nm" in capsys.readouterr().err
