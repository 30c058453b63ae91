"""``tamrig queue``: plans run in order into their own files; the state survives a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tamrig.cli import main
from tamrig.storage import open_scan

PLAN = """
name = "{name}"
[sample]
cross_section_cm2 = 9.6e-16
pump_sigma_nm = 141.0
[delays]
segments = [{{ kind = "list", values = [-200, 300, 1000] }}]
[fluence]
unit = "n_abs"
values = [{n_abs}]
[probe]
wavelengths_nm = [905.0]
[acquisition]
pairs_per_point = 8
block_frames = 16
dark_frames = 4
"""


def _plans(tmp_path: Path) -> list[Path]:
    paths = []
    for name, n_abs in (("low", 0.05), ("high", 0.2)):
        path = tmp_path / f"{name}.toml"
        path.write_text(PLAN.format(name=name, n_abs=n_abs))
        paths.append(path)
    return paths


def _state(out: Path) -> list[dict[str, str]]:
    return json.loads((out / "queue.json").read_text())["entries"]


def test_two_plans_run_in_order_and_a_rerun_measures_nothing_again(tmp_path: Path) -> None:
    low, high = _plans(tmp_path)
    out = tmp_path / "night"
    assert main(["queue", str(low), "--out-dir", str(out), "--quiet"]) == 0
    first = (out / "low.h5").stat().st_mtime_ns
    # the window or the command restarted with the whole series: low is not measured again
    assert main(["queue", str(low), str(high), "--out-dir", str(out), "--quiet"]) == 0
    assert (out / "low.h5").stat().st_mtime_ns == first
    assert [(Path(e["out"]).name, e["status"]) for e in _state(out)] == [
        ("low.h5", "finished"),
        ("high.h5", "finished"),
    ]
    for name, n_abs in (("low", 0.05), ("high", 0.2)):
        with open_scan(out / f"{name}.h5") as scan:
            assert scan.status == "finished" and len(scan) == 3
            assert scan.points()["n_abs"] == pytest.approx([n_abs] * 3)


def test_an_interrupted_entry_resumes_in_its_file(tmp_path: Path) -> None:
    low, _ = _plans(tmp_path)
    out = tmp_path / "night"
    assert main(["queue", str(low), "--out-dir", str(out), "--quiet"]) == 0
    entries = _state(out)
    entries[0]["status"] = "running"  # as a killed run leaves it
    (out / "queue.json").write_text(json.dumps({"entries": entries}))
    assert main(["queue", "--out-dir", str(out), "--quiet"]) == 0
    assert _state(out)[0]["status"] == "finished"
    assert not (out / "low-2.h5").exists()  # resumed in its own file, not a new one


def test_a_bad_plan_stops_the_queue_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    low, _ = _plans(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[delays]\nsegments = [{ kind = "log", start = 5, stop = 1 }]\n')
    out = tmp_path / "night"
    assert main(["queue", str(low), str(bad), "--out-dir", str(out), "--quiet"]) == 2
    assert "bad.toml" in capsys.readouterr().err
    assert not out.exists()
