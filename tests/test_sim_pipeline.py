"""End to end: the default scan on the simulated rig, through the engine, the data file and
the analysis, recovers docs/simulator.md's targets: the pure CQD film at three fluences, the QDiP
40 vol % film's later peak, and no super-diffusive regime in the QDiP 90 vol % film.

Test mode: ``[simulation] camera_accumulate = 500`` with 70 pairs per delay gives the
reference noise of 2.5e-5 per pixel, so the 3 × 112-point scan takes seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_variant

from tamrig.analysis.peak import NO_REGIME
from tamrig.analysis.summary import ScanAnalysis, analyse_points
from tamrig.engine.session import run_scan
from tamrig.storage import open_scan

PLAN = """
name = "simulated recovery"
nesting = ["wavelength", "fluence", "sweep"]

[sample]
name = "PbS CQD film (simulated)"
cross_section_cm2 = 9.6e-16
pump_sigma_nm = 141.0

[delays]
preset = "default"
reference_fs = 300.0

[fluence]
unit = "n_abs"
values = [0.045, 0.09, 0.18]

[probe]
wavelengths_nm = [905.0]

[sweeps]
count = 1

[acquisition]
scheme = "chopper"
pairs_per_point = 70
block_frames = 140
dark_frames = 32
"""


def run_default_scan(tmp: Path, preset: str, fluences: str) -> ScanAnalysis:
    rig = write_variant(
        tmp,
        "seed = 20261125",
        "camera_accumulate = 500\nseed = 20261125",
    )
    rig.write_text(rig.read_text().replace('preset = "cqd"', f'preset = "{preset}"'))
    plan = tmp / "plan.toml"
    plan.write_text(PLAN.replace("values = [0.045, 0.09, 0.18]", f"values = [{fluences}]"))
    out = tmp / "scan.h5"
    assert run_scan(plan, out=out, rig=rig) == "finished"
    with open_scan(out) as scan:
        points = scan.points()
    n_fluences = fluences.count(",") + 1
    assert len(points["delay_fs"]) == n_fluences * (112 + 1)  # + the reference delay
    return analyse_points(points)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> ScanAnalysis:
    return run_default_scan(tmp_path_factory.mktemp("cqd"), "cqd", "0.045, 0.09, 0.18")


def _series(analysis: ScanAnalysis, n_abs: float):  # type: ignore[no-untyped-def]
    return next(a for a in analysis.series if a.series.n_abs == pytest.approx(n_abs, rel=0.05))


def test_sigma0_and_peak_of_the_pure_cqd_film(analysis: ScanAnalysis) -> None:
    a = _series(analysis, 0.045)
    assert a.series.sigma0.value_nm == pytest.approx(141.0, abs=3.0)
    peak = a.peak
    assert peak.found
    assert peak.d_peak_cm2_s == pytest.approx(102.0, abs=15.0)
    assert peak.t_peak_fs == pytest.approx(300.0, abs=40.0)
    assert peak.length_nm == pytest.approx(78.0, abs=4.0)
    assert peak.mobility_cm2_vs == pytest.approx(3.95e3, rel=0.15)
    assert a.early_power_law.alpha > 1.0


def test_fluence_trends(analysis: ScanAnalysis) -> None:
    trend = analysis.fluence[905.0]
    assert trend.growth_increases_with_n_abs
    assert trend.d_hop_mean_cm2_s == pytest.approx(0.020, abs=0.004)
    for value in trend.d_hop_cm2_s:
        assert value == pytest.approx(0.020, abs=0.004)


def test_every_fluence_has_its_sigma0(analysis: ScanAnalysis) -> None:
    assert len(analysis.series) == 3 and not analysis.skipped
    for a in analysis.series:
        assert a.series.sigma0.value_nm == pytest.approx(141.0, abs=3.0)


def test_qdip40_peak_is_later_and_longer(tmp_path: Path) -> None:
    (a,) = run_default_scan(tmp_path, "qdip40", "0.045").series
    assert a.series.sigma0.value_nm == pytest.approx(141.0, abs=3.0)
    assert a.peak.found
    assert a.peak.d_peak_cm2_s == pytest.approx(106.0, abs=10.0)
    assert a.peak.t_peak_fs == pytest.approx(382.0, abs=50.0)
    assert a.peak.length_nm == pytest.approx(90.0, abs=4.0)


def test_qdip90_has_no_superdiffusive_regime(tmp_path: Path) -> None:
    (a,) = run_default_scan(tmp_path, "qdip90", "0.045").series
    assert not a.peak.found
    assert a.peak.verdict.startswith(NO_REGIME)
