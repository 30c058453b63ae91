"""``tamrig campaign``: discovery, grouping, the cache, Dask execution, table and figures.

One reduced simulated campaign (three samples, two fluences, a few delays) is made once per
module; every test copies what it changes.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulators.campaign import PEAK, SAMPLES, SMALL, write_campaign
from tamrig.campaign import discovery, table
from tamrig.campaign.adapter import CampaignSettings
from tamrig.campaign.execution import dask_client
from tamrig.campaign.runner import run_campaign
from tamrig.cli import main

CHOSEN = [s for s in SAMPLES if s.name in ("CQD", "QDiP 40", "QDiP 90")]
N_ABS = (0.09, 0.18)
NUMBERS = {
    "d_peak_cm2_s": "d_peak_err_cm2_s",
    "t_peak_fs": "t_peak_err_fs",
    "length_nm": "length_err_nm",
    "sigma0_nm": "sigma0_err_nm",
    "alpha": "alpha_err",
    "auger_growth_nm2": "auger_growth_err_nm2",
    "d_hop_cm2_s": "d_hop_err_cm2_s",
    "mobility_cm2_vs": "mobility_err_cm2_vs",
    "inv_tau_super_per_ps": "inv_tau_super_err_per_ps",
}


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("campaign")
    write_campaign(root, samples=CHOSEN, n_abs=N_ABS, size=SMALL)
    return root / "scans"


def _copy(scans: Path, tmp_path: Path, names: tuple[str, ...] = ()) -> Path:
    """The campaign's files (or only ``names``) in a folder of the test's own."""
    target = tmp_path / "scans"
    target.mkdir()
    for path in scans.glob("*.h5"):
        if not names or path.name in names:
            shutil.copy(path, target / path.name)
    return target


def test_files_group_into_one_series_per_sample_probe_and_fluence(scans: Path) -> None:
    files = discovery.find_scan_files([scans])
    assert len(files) == len(CHOSEN) * len(N_ABS)
    infos = [discovery.describe(f) for f in files]
    assert all(isinstance(i, discovery.ScanInfo) for i in infos)
    groups = discovery.group_series(i for i in infos if isinstance(i, discovery.ScanInfo))
    keys = {(g.sample, g.probe_nm, round(g.n_abs, 3)) for g in groups}
    assert keys == {(s.name, 905.0, n) for s in CHOSEN for n in N_ABS}
    fractions = {g.sample: g.properties["perovskite_fraction"] for g in groups}
    assert fractions == {s.name: s.perovskite_fraction for s in CHOSEN}


def test_a_repeat_file_joins_its_series(scans: Path, tmp_path: Path) -> None:
    """The same sample and fluence measured twice (another day) is one series of both."""
    folder = _copy(scans, tmp_path, ("cqd-N0.09.h5", "cqd-N0.18.h5"))
    shutil.copy(folder / "cqd-N0.09.h5", folder / "cqd-N0.09-day2.h5")
    result = run_campaign([folder], tmp_path / "report", draw=False)
    row = result.table[result.table["files"].str.contains("day2")]
    assert len(row) == 1 and row["files"].iloc[0].count(";") == 1
    single = run_campaign([scans / "cqd-N0.09.h5"], tmp_path / "single", draw=False)
    assert row["n_points"].iloc[0] == 2 * single.table["n_points"].iloc[0]


def test_local_cluster_gives_the_numbers_of_a_serial_run(scans: Path, tmp_path: Path) -> None:
    serial = run_campaign([scans], tmp_path / "serial", draw=False)
    with dask_client(workers=2, processes=False) as client:
        clustered = run_campaign([scans], tmp_path / "cluster", client=client, draw=False)
    assert serial.n_failed == clustered.n_failed == 0
    assert serial.n_series == clustered.n_series == len(CHOSEN) * len(N_ABS)
    a = serial.table.set_index(["sample", "n_abs"]).sort_index()
    b = clustered.table.set_index(["sample", "n_abs"]).sort_index()
    pd.testing.assert_frame_equal(a.drop(columns="files"), b.drop(columns="files"))
    assert set(NUMBERS) <= set(a.columns)
    assert np.isfinite(a["sigma0_nm"]).all()


def test_rerun_reuses_unchanged_series_and_redoes_changed_ones(scans: Path, tmp_path: Path) -> None:
    folder = _copy(scans, tmp_path, ("qdip-40-N0.09.h5", "qdip-40-N0.18.h5", "cqd-N0.18.h5"))
    report = tmp_path / "report"
    first = run_campaign([folder], report, draw=False)
    assert (first.n_analysed, first.n_cached) == (3, 0)
    again = run_campaign([folder], report, draw=False)
    assert (again.n_analysed, again.n_cached) == (0, 3)
    pd.testing.assert_frame_equal(first.table, again.table)
    # new content in one file (a resumed scan grows): only its series is analysed again
    shutil.copy(scans / "qdip-40-N0.18.h5", folder / "qdip-40-N0.09.h5")
    changed = run_campaign([folder], report, draw=False)
    assert changed.n_analysed == 1
    # other settings: everything again
    hotter = run_campaign(
        [folder], report, settings=CampaignSettings(temperature_k=77.0), draw=False
    )
    assert hotter.n_analysed == hotter.n_series


def test_an_interrupted_campaign_resumes_where_it_stopped(scans: Path, tmp_path: Path) -> None:
    folder = _copy(scans, tmp_path, ("cqd-N0.09.h5", "cqd-N0.18.h5", "qdip-90-N0.18.h5"))
    report = tmp_path / "report"

    def stop_after_two(done: int, running: int, failed: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_campaign([folder], report, on_progress=stop_after_two, draw=False)
    resumed = run_campaign([folder], report, draw=False)
    assert (resumed.n_cached, resumed.n_analysed) == (2, 1)


def test_damaged_and_empty_files_are_rows_with_their_error(scans: Path, tmp_path: Path) -> None:
    folder = _copy(scans, tmp_path, ("cqd-N0.18.h5",))
    (folder / "garbage.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 300)
    whole = (folder / "cqd-N0.18.h5").read_bytes()
    (folder / "cut.h5").write_bytes(whole[: len(whole) // 3])
    result = run_campaign([folder], tmp_path / "report", draw=False)
    errors = result.table[result.table["status"] == "error"]
    assert {Path(f).name for f in errors["files"]} == {"garbage.h5", "cut.h5"}
    assert all("garbage.h5" in e or "cut.h5" in e for e in errors["error"])
    assert (result.table["status"] == "ok").sum() == 1
    assert result.table["super_diffusive"].dtype == bool  # not text, whatever the gaps
    assert result.trends["samples"]["CQD"]["super_diffusive"]
    assert (tmp_path / "report" / "campaign.csv").is_file()


def test_report_holds_table_figures_and_trends(scans: Path, tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = run_campaign([scans], report)
    frame = pd.read_parquet(report / "campaign.parquet")
    assert len(frame) == 6
    for value, err in NUMBERS.items():  # every quantity next to its error
        assert value in frame.columns and err in frame.columns, value
    assert {Path(f).name for f in frame["files"]} == {p.name for p in scans.glob("*.h5")}
    csv = pd.read_csv(report / "campaign.csv")
    assert np.allclose(csv["sigma0_nm"], frame["sigma0_nm"])
    names = {p.name for p in result.files}
    assert "campaign_diffusivity_lowest_fluence_905nm.png" in names
    assert "campaign_transport_vs_perovskite_fraction.png" in names
    assert "campaign_auger_vs_n_abs.png" in names
    assert any("disorder" in n for n in result.notes)  # not recorded: skipped with a note
    assert set(result.trends["samples"]) == {s.name for s in CHOSEN}
    assert result.trends["samples"]["CQD"]["n_abs"] == pytest.approx(0.09)


def test_disorder_recorded_in_metadata_gives_its_figure(tmp_path: Path) -> None:
    rows = [
        {
            "sample": name,
            "probe_wavelength_nm": 905.0,
            "n_abs": 0.045,
            "status": "ok",
            "super_diffusive": True,
            "inv_tau_super_per_ps": 1 / t,
            "inv_tau_super_err_per_ps": 0.1,
            "sample.sigma_inh_mev": s,
            "cache_key": name,
            "fluence_label": "N 0.045",
            "regime": "peak",
            "length_nm": 80.0,
            "length_err_nm": 2.0,
            "d_peak_cm2_s": 100.0,
            "d_peak_err_cm2_s": 5.0,
            "fluence_uj_cm2": 16.1,
            "auger_growth_nm2": math.nan,
            "auger_growth_err_nm2": math.nan,
        }
        for name, t, s in (("a", 0.3, 40.0), ("b", 0.4, 30.0))
    ]
    from tamrig.campaign.figures import write_figures

    frame = table.build_table(rows)
    files, notes = write_figures(frame, {}, tmp_path, table.x_property(frame))
    assert "campaign_inv_tau_vs_sigma_inh_mev.png" in {f.name for f in files}
    assert not any("disorder" in n for n in notes)


@pytest.mark.parametrize(
    ("lengths", "peak", "is_volcano"),
    [([70, 85, 90, 60, 0], 0.4, True), ([70, 75, 80, 85, 90], 0.9, False)],
)
def test_volcano(lengths: list[float], peak: float, is_volcano: bool) -> None:
    v = table.volcano([0.0, 0.2, 0.4, 0.65, 0.9], lengths)
    assert v == {"x_max": peak, "is_volcano": is_volcano}


def test_cli_writes_the_report_and_rejects_bad_input(
    scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "report"
    args = ["campaign", str(scans / "cqd-*.h5"), "--report", str(report), "--quiet"]
    assert main([*args, "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "2 series: 2 analysed, 0 reused, 0 failed" in out
    # everything cached: the default local workers are not even started
    from tamrig.campaign import execution

    def no_cluster(*args: object) -> None:
        raise AssertionError("a cluster was started with nothing to analyse")

    monkeypatch.setattr(execution, "dask_client", no_cluster)
    assert main(args) == 0
    assert "2 series: 0 analysed, 2 reused, 0 failed" in capsys.readouterr().out
    monkeypatch.undo()
    assert (report / "campaign.csv").is_file() and (report / "trends.json").is_file()
    # the same files through --scheduler (a running cluster): the same table
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        remote = tmp_path / "remote"
        args = ["campaign", str(scans / "cqd-*.h5"), "--report", str(remote), "--quiet"]
        assert main([*args, "--scheduler", cluster.scheduler_address]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(
        pd.read_csv(report / "campaign.csv"), pd.read_csv(remote / "campaign.csv")
    )
    assert main(["campaign", str(tmp_path / "nothing-*.h5"), "--report", str(report)]) == 2
    assert "nothing-*.h5" in capsys.readouterr().err
    assert main(["campaign", str(scans), "--report", str(report), "--workers", "-1"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_simulated_campaign_shows_the_papers_trends(
    scans: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """CQD, QDiP 40 and QDiP 90 at ⟨N_abs⟩ 0.18 with the frames of the full campaign: QDiP
    40 spreads furthest and latest, QDiP 90 has no super-diffusive regime, so L against the
    perovskite fraction is a volcano peaking at 0.4; and in the reduced fluence series the
    Auger growth rises with ⟨N_abs⟩ in every sample."""
    root = tmp_path_factory.mktemp("peaks")
    write_campaign(root, samples=CHOSEN, n_abs=(0.18,), size=PEAK)
    result = run_campaign([root / "scans"], root / "report", draw=False)
    t = result.trends
    cqd, q40 = t["samples"]["CQD"], t["samples"]["QDiP 40"]
    assert t["no_super_diffusive_regime"] == ["QDiP 90"]
    assert t["longest_l"] == "QDiP 40"
    (l40, e40), (lcqd, ecqd) = q40["length_nm"], cqd["length_nm"]
    assert l40 - lcqd > 5 * math.hypot(e40, ecqd)
    (t40, f40), (tcqd, fcqd) = q40["t_peak_fs"], cqd["t_peak_fs"]
    assert t40 - tcqd > 3 * math.hypot(f40, fcqd)
    assert t["volcano"] == {"x_max": 0.4, "is_volcano": True}
    series = run_campaign([scans], root / "series", draw=False).trends["auger"]
    assert {name: a["increases"] for name, a in series.items()} == {
        f"{s.name} @ 905 nm": True for s in CHOSEN
    }


def test_a_file_shorter_than_its_recorded_end_is_an_error_row_until_recovered(
    scans: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from tamrig.storage import soundness

    folder = _copy(scans, tmp_path, ("cqd-N0.18.h5",))
    real = soundness.check_scan_file
    monkeypatch.setattr(
        soundness,
        "check_scan_file",
        lambda path: dataclasses.replace(real(path), truncated=True),
    )
    result = discovery.describe(folder / "cqd-N0.18.h5")
    assert isinstance(result, discovery.FileProblem)
    assert "shorter than its recorded end" in result.error
    assert f"tamrig recover {folder / 'cqd-N0.18.h5'}" in result.error
