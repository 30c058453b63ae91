"""GUI scan builder: plan <-> form round trip, grid preview, errors shown at the field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gui

PLAN = """
name = "cqd-demo"
[sample]
name = "PbS film"
cross_section_cm2 = 1.0e-15
[delays]
segments = [
  { kind = "linear", start = -500, stop = 500, step = 250 },
  { kind = "log", start = 1, stop = 100, count = 5, unit = "ps", include_start = true },
]
[fluence]
unit = "n_abs"
values = [0.05, 0.2]
[probe]
wavelengths_nm = [905.0]
[sweeps]
count = 2
order = "alternating"
[acquisition]
pairs_per_point = 64
dark_frames = 16
block_frames = 32
"""


def _builder(qtbot: Any) -> Any:
    from tamrig.gui.scan_builder import ScanBuilder

    builder = ScanBuilder()
    qtbot.addWidget(builder)
    return builder


def test_load_preview_and_save_round_trip(qtbot: Any, tmp_path: Path) -> None:
    source = tmp_path / "plan.toml"
    source.write_text(PLAN)
    builder = _builder(qtbot)
    assert builder.load(source), builder.errors
    plan = builder.plan
    assert plan.name == "cqd-demo" and plan.n_fluences() == 2
    # 5 linear + 5 log delays; the grid preview shows the positive ones on the log axis
    assert builder.grid_fs == pytest.approx(
        [-500, -250, 0, 250, 500, 1e3, 3162.28, 1e4, 31622.8, 1e5], rel=1e-5
    )
    x, _ = builder.preview_points.getData()
    assert len(x) == 7
    assert "40 points" in builder.summary.text()  # 2 sweeps × 2 fluences × 10 delays

    builder.sweeps.setValue(3)
    builder.wavelengths.setText("905, 690")
    out = tmp_path / "saved.toml"
    assert builder.save(out)
    saved = tomllib.loads(out.read_text())
    assert saved["sweeps"] == {"count": 3, "order": "alternating", "seed": 0}
    assert saved["probe"]["wavelengths_nm"] == [905.0, 690.0]
    assert saved["sample"]["cross_section_cm2"] == 1e-15  # kept though not on the form
    assert saved["acquisition"]["block_frames"] == 32
    assert saved["delays"]["segments"][1] == {
        "kind": "log",
        "unit": "ps",
        "start": 1.0,
        "stop": 100.0,
        "count": 5,
        "include_start": True,
    }
    again = _builder(qtbot)
    assert again.load(out)
    assert again.plan.model_dump() == builder.plan.model_dump()


def test_validation_errors_are_shown_at_the_field(qtbot: Any, tmp_path: Path) -> None:
    source = tmp_path / "plan.toml"
    source.write_text(PLAN)
    builder = _builder(qtbot)
    assert builder.load(source)

    builder.segments.item(1, 2).setText("0.5")  # log segment: stop below start
    assert builder.check() is None
    (field,) = builder.errors
    assert field.startswith("delays.segments[1]")
    assert builder.error_labels["delays"].isVisibleTo(builder)
    assert builder.segments.item(1, 2) in builder.marked or any(
        builder.segments.item(1, c) in builder.marked for c in range(1, 5)
    )

    builder.segments.item(1, 2).setText("100")
    builder.fluence_values.setText("0.05, lots")
    assert builder.check() is None
    assert "fluence.values" in builder.errors
    assert builder.fluence_values in builder.marked
    assert not builder.error_labels["delays"].isVisibleTo(builder)

    builder.fluence_values.setText("-1")
    assert builder.check() is None
    assert any(f.startswith("fluence") for f in builder.errors)
    assert builder.error_labels["axes"].isVisibleTo(builder)

    builder.fluence_values.setText("0.05")
    checked = builder.check()
    assert checked is not None and checked.fluence is not None
    assert list(checked.fluence.values) == [0.05]
    assert builder.errors == {} and builder.marked == []


def test_new_plan_uses_the_default_grid_and_a_bad_file_is_reported(
    qtbot: Any, tmp_path: Path
) -> None:
    builder = _builder(qtbot)
    plan = builder.check()
    assert plan is not None and len(builder.grid_fs) == 112
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    assert not builder.load(bad)
    assert "cannot read" in builder.error_labels["general"].text()
