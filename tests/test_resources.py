"""The shipped rigs and plans: one copy inside the package, found from any folder, and
``tamrig init`` writing editable copies without ever replacing a file unasked."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tamrig.cli import main
from tamrig.resources import DEFAULT_RIG, RESOURCES_DIR, SCANS_DIR, examples

REPO = Path(__file__).resolve().parent.parent


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_config_in_the_checkout_is_the_package_resources() -> None:
    """One source of truth: config/ is the shipped folder, not a copy that can drift."""
    assert (REPO / "config").resolve() == RESOURCES_DIR
    assert DEFAULT_RIG.is_file() and (SCANS_DIR / "demo.toml").is_file()
    names = {kind: [p.name for p in paths] for kind, paths in examples().items()}
    assert {"simulated.toml", "emulated.toml", "lab-example.toml"} <= set(names["rigs"])
    assert {"demo.toml", "template.toml"} <= set(names["scans"])


def test_default_rig_is_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["devices", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert Path(listing["file"]).resolve() == DEFAULT_RIG
    assert {d["role"] for d in listing["devices"]} >= {"stage", "camera", "pump_shutter"}


def test_init_writes_editable_copies_and_never_replaces_unasked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "lab"
    assert main(["init", str(folder)]) == 0
    for kind, sources in examples().items():
        for source in sources:
            assert (folder / kind / source.name).read_bytes() == source.read_bytes()
    (folder / "rigs" / "simulated.toml").write_text("# my edits\n")
    before = digest(folder)
    capsys.readouterr()
    assert main(["init", str(folder)]) == 2  # an existing output is an input error
    err = capsys.readouterr().err
    assert "simulated.toml" in err and "--force" in err
    assert digest(folder) == before  # nothing touched
    assert main(["init", str(folder), "--force"]) == 0
    assert (folder / "rigs" / "simulated.toml").read_bytes() == DEFAULT_RIG.read_bytes()


def test_init_refuses_a_file_for_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    assert main(["init", str(target)]) == 2
    assert target.read_text() == "keep me"


def test_a_copied_rig_runs_and_keeps_its_calibration_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tamrig.calibration import CALIBRATION_DIR_ENV, calibration_path
    from tamrig.rig import build_rig

    monkeypatch.delenv(CALIBRATION_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["init", str(tmp_path / "lab")]) == 0
    copied = build_rig(tmp_path / "lab" / "rigs" / "simulated.toml")
    assert calibration_path(copied).parent == tmp_path / "lab" / "rigs" / "calibrations"
    shipped = build_rig(None)  # the package folder is not written into
    assert calibration_path(shipped).parent == tmp_path / "data" / "tamrig" / "calibrations"
