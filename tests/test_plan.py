"""Scan plans: TOML loading, delay grids, point order, and pre-flight against the rig."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, write_variant

from tamrig.engine.session import calibration_for
from tamrig.errors import PlanError
from tamrig.plan import (
    ScanPlan,
    default_grid_fs,
    delay_order,
    load_plan,
    plan_from_dict,
    scan_points,
    validate_for,
)
from tamrig.rig import Rig, build_rig

SCANS = REPO / "config" / "scans"


def small_plan(**changes: Any) -> dict[str, Any]:
    """A tiny valid plan as a dict; ``changes`` replace top-level tables."""
    plan: dict[str, Any] = {
        "name": "small",
        "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
        "delays": {
            "reference_fs": 300.0,
            "segments": [
                {"kind": "list", "values": [-200, 0, 200]},
                {"kind": "log", "start": 1, "stop": 10, "count": 2, "unit": "ps"},
            ],
        },
        "fluence": {"unit": "n_abs", "values": [0.045, 0.09]},
        "probe": {"wavelengths_nm": [905.0, 690.0]},
        "sweeps": {"count": 3, "order": "alternating"},
        "acquisition": {"pairs_per_point": 10, "dark_frames": 0},
    }
    plan.update(changes)
    return plan


def write_plan(tmp_path: Path, text: str, name: str = "plan.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the shipped plans and the default grid ----------------------------------------------------


def test_default_grid_is_the_112_points_of_physics_md() -> None:
    grid = default_grid_fs()
    assert len(grid) == 112
    assert grid[:4] == [-1000.0, -800.0, -600.0, -400.0]
    assert grid[4:64] == [-200.0 + 20 * k for k in range(60)]  # 20 fs steps -200…980 fs
    assert grid[64:82] == [1500.0 + 500 * k for k in range(18)]  # 0.5 ps steps to 10 ps
    assert grid[82] > 10_000 and grid[-1] == pytest.approx(2e6)  # 30 log points to 2 ns
    assert len(grid[82:]) == 30 and grid == sorted(grid)


def test_shipped_plans_load() -> None:
    demo = load_plan(SCANS / "demo.toml")
    assert len(demo.delays_fs()) == 33
    assert min(demo.delays_fs()) == -500 and max(demo.delays_fs()) == pytest.approx(1e6)
    assert demo.n_fluences() == 3 and demo.n_wavelengths() == 1 and demo.sweeps.count == 2
    paper = load_plan(SCANS / "paper-fluence-series.toml")
    assert paper.delays_fs() == default_grid_fs()
    assert paper.fluence is not None and paper.fluence.values == [0.045, 0.09, 0.18]
    assert paper.fluence.unit == "n_abs"


def test_template_documents_a_valid_plan(sim_rig: Rig) -> None:
    plan = load_plan(SCANS / "template.toml")
    assert plan.sample.metadata == {"batch": "2026-11-A"}
    assert plan.delays_fs() == [-300, -200, -100, 0, 100, 200, 300, 1000, 10_000, 100_000, 5e5, 1e6]
    resolved = validate_for(plan, sim_rig, calibration=calibration_for(plan, sim_rig))
    assert len(resolved.points) == 2 * 2 * 13


def test_plan_round_trips_through_json() -> None:
    plan = load_plan(SCANS / "demo.toml")
    again = plan_from_dict(plan.model_dump(mode="json"))
    assert again.model_dump() == plan.model_dump()
    assert scan_points(again) == scan_points(plan)


def test_units_and_segments() -> None:
    plan = plan_from_dict(
        small_plan(
            delays={
                "segments": [
                    {"kind": "linear", "start": 0, "stop": 1, "step": 0.25, "unit": "ps"},
                    {"kind": "linear", "start": 2, "stop": 3, "count": 3, "unit": "ns"},
                    {"kind": "list", "values": [500, 250], "unit": "fs"},  # 250 fs twice
                ]
            }
        )
    )
    assert plan.delays_fs() == [0, 250, 500, 750, 1000, 2e6, 2.5e6, 3e6]


# -- point order -------------------------------------------------------------------------------


def test_points_cover_the_grid_once_with_a_reference_per_sweep() -> None:
    plan = plan_from_dict(small_plan())
    points = scan_points(plan)
    n_delays = len(plan.delays_fs())
    assert len(points) == plan.n_points() == 3 * 2 * 2 * (n_delays + 1)
    assert [p.index for p in points] == list(range(len(points)))
    assert len({p.grid for p in points}) == len(points)
    refs = [p for p in points if p.reference]
    assert len(refs) == 3 * 2 * 2
    assert all(p.delay_index == n_delays and p.delay_fs == 300.0 for p in refs)
    # default nesting: wavelength outermost, then fluence, then sweep; delay innermost
    assert [p.wavelength_index for p in points] == sorted(p.wavelength_index for p in points)
    first_run = points[: n_delays + 1]
    assert first_run[0].reference and {p.sweep for p in first_run} == {0}


def test_nesting_order_is_respected() -> None:
    plan = plan_from_dict(small_plan(nesting=["sweep", "fluence", "wavelength"]))
    points = scan_points(plan)
    assert [p.sweep for p in points] == sorted(p.sweep for p in points)
    per_sweep = [p for p in points if p.sweep == 0]
    assert [p.fluence_index for p in per_sweep] == sorted(p.fluence_index for p in per_sweep)


def test_delay_orders() -> None:
    forward = plan_from_dict(small_plan(sweeps={"count": 2, "order": "forward"}))
    assert delay_order(forward, 0) == delay_order(forward, 1) == [0, 1, 2, 3, 4]
    alternating = plan_from_dict(small_plan(sweeps={"count": 2, "order": "alternating"}))
    assert delay_order(alternating, 1) == [4, 3, 2, 1, 0]
    random = plan_from_dict(small_plan(sweeps={"count": 3, "order": "random", "seed": 7}))
    orders = [delay_order(random, s) for s in range(3)]
    assert all(sorted(o) == [0, 1, 2, 3, 4] for o in orders)
    assert len({tuple(o) for o in orders}) > 1  # sweeps differ…
    assert orders == [delay_order(random, s) for s in range(3)]  # …reproducibly
    other_seed = plan_from_dict(small_plan(sweeps={"count": 3, "order": "random", "seed": 8}))
    assert [delay_order(other_seed, s) for s in range(3)] != orders


# -- invalid plans: the error names file and field ---------------------------------------------

DEMO_TEXT = (SCANS / "demo.toml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('unit = "ps"', 'unit = "us"', "delays.segments[3].unit"),
        ("step = 200", "step = -200", "delays.segments[0].step"),
        ("values = [0.045, 0.09, 0.18]", "values = []", "fluence.values"),
        ("wavelengths_nm = [905.0]", "wavelengths_nm = []", "probe.wavelengths_nm"),
        ("pairs_per_point = 150", "pairs_per_pont = 150", "acquisition.pairs_per_pont"),
        ('order = "alternating"', 'order = "sideways"', "sweeps.order"),
        ('nesting = ["wavelength", "fluence", "sweep"]', 'nesting = ["fluence"]', "nesting"),
        ('unit = "n_abs"', 'unit = "mJ"', "fluence.unit"),
    ],
)
def test_invalid_plans_name_the_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in DEMO_TEXT
    path = write_plan(tmp_path, DEMO_TEXT.replace(old, new, 1))
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.field == field
    assert str(path) in str(info.value)


def test_plan_without_delays_is_rejected(tmp_path: Path) -> None:
    path = write_plan(tmp_path, 'name = "x"\n[delays]\nreference_fs = 1.0\n')
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.field == "delays"


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write_plan(tmp_path, "name = \n")
    with pytest.raises(PlanError, match="TOML syntax"):
        load_plan(path)


# -- pre-flight against the simulated rig ------------------------------------------------------


def preflight(plan: ScanPlan, rig: Rig, out: Path | None = None) -> None:
    validate_for(plan, rig, calibration=calibration_for(plan, rig), out_path=out)


def test_preflight_passes_the_shipped_plans(sim_rig: Rig, tmp_path: Path) -> None:
    for name in ("demo", "paper-fluence-series"):
        plan = load_plan(SCANS / f"{name}.toml")
        resolved = validate_for(
            plan, sim_rig, calibration=calibration_for(plan, sim_rig), out_path=tmp_path / "x.h5"
        )
        assert len(resolved.points) == plan.n_points()
        assert resolved.image_shape == (64, 64)
        assert all(f.setting is not None for f in resolved.fluences)
    paper = load_plan(SCANS / "paper-fluence-series.toml")
    resolved = validate_for(paper, sim_rig, calibration=calibration_for(paper, sim_rig))
    n_abs = [f.n_abs for f in resolved.fluences]
    assert n_abs == [0.045, 0.09, 0.18]
    fluences = [f.fluence_uj_cm2 for f in resolved.fluences]
    assert fluences[0] == pytest.approx(16.1, rel=0.01)  # N = 0.045 ↔ 16.1 µJ/cm²
    assert fluences[1] == pytest.approx(2 * fluences[0]) and fluences[2] == pytest.approx(
        4 * fluences[0]
    )


def test_preflight_rejects_a_delay_past_the_stage_travel(sim_rig: Rig) -> None:
    plan = plan_from_dict(
        small_plan(delays={"segments": [{"kind": "list", "values": [0, 3], "unit": "ns"}]}),
        source="p.toml",
    )
    with pytest.raises(PlanError) as info:
        preflight(plan, sim_rig)
    assert info.value.field == "delays.segments[0]"
    assert "travel" in str(info.value) and "p.toml" in str(info.value)


def test_preflight_rejects_a_reference_delay_past_travel(sim_rig: Rig) -> None:
    delays = {"segments": [{"kind": "list", "values": [0]}], "reference_fs": -1e6}
    with pytest.raises(PlanError) as info:
        preflight(plan_from_dict(small_plan(delays=delays)), sim_rig)
    assert info.value.field == "delays.reference_fs"


def test_preflight_rejects_an_unavailable_wavelength(sim_rig: Rig) -> None:
    plan = plan_from_dict(small_plan(probe={"wavelengths_nm": [905.0, 1300.0]}))
    with pytest.raises(PlanError) as info:
        preflight(plan, sim_rig)
    assert info.value.field == "probe.wavelengths_nm[1]"
    assert "905" in str(info.value)


def test_preflight_enforces_the_fluence_interlock(sim_rig: Rig) -> None:
    limit = sim_rig.settings.max_fluence_uj_cm2
    plan = plan_from_dict(small_plan(fluence={"unit": "uJ/cm2", "values": [10, limit * 1.5]}))
    with pytest.raises(PlanError) as info:
        preflight(plan, sim_rig)
    assert info.value.field == "fluence.values[1]"
    # an N_abs above the interlock too (N = 0.045 ↔ 16.1 µJ/cm², the rig allows 200)
    plan = plan_from_dict(small_plan(fluence={"unit": "n_abs", "values": [0.045, 0.9]}))
    with pytest.raises(PlanError) as info:
        preflight(plan, sim_rig)
    assert info.value.field == "fluence.values[1]"


def test_preflight_needs_a_calibration_and_a_cross_section(sim_rig: Rig) -> None:
    plan = plan_from_dict(small_plan())
    with pytest.raises(PlanError) as info:
        validate_for(plan, sim_rig, calibration=None)
    assert info.value.field == "fluence.unit"
    no_sample = plan_from_dict(small_plan(sample={"pump_sigma_nm": 141.0}))
    with pytest.raises(PlanError) as info:
        calibration_for(no_sample, sim_rig)
    assert info.value.field == "sample.cross_section_cm2"
    no_sigma = plan_from_dict(small_plan(sample={"cross_section_cm2": 9.6e-16}))
    with pytest.raises(PlanError) as info:
        calibration_for(no_sigma, sim_rig)
    assert info.value.field == "sample.pump_sigma_nm"


def test_preflight_checks_disk_space(
    sim_rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_from_dict(small_plan())
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        "tamrig.plan.preflight.shutil.disk_usage",
        lambda path: usage._replace(free=1_000_000),
    )
    with pytest.raises(PlanError) as info:
        preflight(plan, sim_rig, tmp_path / "scan.h5")
    assert info.value.field == "acquisition"
    assert "MB" in str(info.value)


def test_preflight_refuses_chopper_without_pump_tags(tmp_path: Path) -> None:
    rig_file = write_variant(
        tmp_path, 'kind = "simulated.camera"', 'kind = "simulated.camera"\nchopper = false'
    )
    plan = plan_from_dict(small_plan(fluence=None))
    with build_rig(rig_file) as rig:
        with pytest.raises(PlanError) as info:
            preflight(plan, rig)
        assert info.value.field == "acquisition.scheme"
        shutter = plan_from_dict(small_plan(fluence=None, acquisition={"scheme": "shutter"}))
        preflight(shutter, rig)  # the shutter scheme needs no tag


def test_preflight_moves_nothing(sim_rig: Rig) -> None:
    assert sim_rig.attenuator is not None
    before = (sim_rig.stage.position_mm(), sim_rig.attenuator.setting())
    calibration = calibration_for(plan_from_dict(small_plan()), sim_rig)
    after_calibration = (sim_rig.stage.position_mm(), sim_rig.attenuator.setting())
    validate_for(plan_from_dict(small_plan()), sim_rig, calibration=calibration)
    assert (sim_rig.stage.position_mm(), sim_rig.attenuator.setting()) == after_calibration
    assert after_calibration[0] == before[0]
    assert not sim_rig.pump_shutter.is_open()


def test_counts_of_grid_cells() -> None:
    points = scan_points(plan_from_dict(small_plan()))
    per_cell = Counter((p.wavelength_index, p.fluence_index, p.delay_index) for p in points)
    assert set(per_cell.values()) == {3}  # every cell once per sweep


def test_raw_attenuator_settings_are_checked(sim_rig: Rig) -> None:
    assert sim_rig.attenuator is not None
    _, hi = sim_rig.attenuator.setting_range
    plan = plan_from_dict(small_plan(fluence={"unit": "setting", "values": [40.0, 44.0]}))
    resolved = validate_for(plan, sim_rig, calibration=calibration_for(plan, sim_rig))
    steps = resolved.fluences
    assert [s.setting for s in steps] == [40.0, 44.0]
    assert steps[0].fluence_uj_cm2 > steps[1].fluence_uj_cm2 > 0  # toward extinction at 48°
    assert steps[0].label == "att=40"
    outside = plan_from_dict(small_plan(fluence={"unit": "setting", "values": [hi + 10]}))
    with pytest.raises(PlanError) as info:
        preflight(outside, sim_rig)
    assert info.value.field == "fluence.values[0]"
    full = plan_from_dict(small_plan(fluence={"unit": "setting", "values": [3.0]}))
    with pytest.raises(PlanError) as info:  # full transmission is above the interlock
        preflight(full, sim_rig)
    assert info.value.field == "fluence.values[0]" and "interlock" in str(info.value)


def test_a_plan_iterates_over_its_points() -> None:
    plan = load_plan(SCANS / "demo.toml")
    points = list(plan)
    assert points == scan_points(plan)
    assert [p.index for p in points] == list(range(plan.n_points()))


def test_the_plan_model_imports_no_preflight_and_no_device() -> None:
    """Pre-flight talks to devices; the plan model is data (no import cycle through it)."""
    import ast

    folder = REPO / "tamrig" / "plan"
    for name in ("model.py", "points.py", "axes.py", "fluence.py"):
        tree = ast.parse((folder / name).read_text())
        imported = [  # anywhere in the module, lazy imports in functions included
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        ]
        assert not any(
            m.startswith(("tamrig.plan.preflight", "tamrig.rig", "tamrig.devices"))
            for m in imported
        ), (name, imported)
