"""The fault matrix: every simulated device x fault kind through ``tamrig scan``.

Each cell arms a persistent fault (``[[simulation.faults]]`` in the rig file) on an operation
the scan performs after its first point is stored, runs the CLI and checks: bounded retries
with exponential back-off, exit 1 naming the device, the pump shutter's blade really closed
(the simulated world's truth, not the device's word), the fault in the file's event log,
the points so far kept; then ``--resume`` with the repaired rig completes the scan with
every point stored exactly once. Faults a scan absorbs (dropped frames, slightly late
frames) must finish normally with the loss recorded in the file.

The matrix is printed at the end (``pytest -rA`` or ``-s``) and written to
``fault-matrix.txt`` in the session's temporary folder.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from harness_cli import run_cli
from harness_engine import call_counts, observed_cli, write_plan, write_rig

from simulators.world import World
from tamrig.engine import PointDone
from tamrig.engine.session import start_scan
from tamrig.rig import build_rig
from tamrig.storage import open_scan

MAX_RETRIES = 2
BACKOFF_S = 0.5  # the engine's default first back-off

#: (rig role, fault kind, operation, extra fault fields)
CELLS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("stage", "timeout", "move", {}),
    ("stage", "garbage", "move", {}),
    ("stage", "disconnect", "move", {}),
    ("stage", "stall", "move", {}),
    ("stage", "stall_error", "move", {}),
    ("pump_shutter", "timeout", "open", {}),
    ("pump_shutter", "garbage", "open", {}),
    ("pump_shutter", "disconnect", "open", {}),
    ("pump_shutter", "stuck", "open", {}),
    ("camera", "timeout", "read", {}),
    ("camera", "garbage", "read", {}),
    ("camera", "disconnect", "read", {}),
    ("camera", "stream_stall", "read", {}),
    ("camera", "late_frames", "read", {"delay_s": 60.0}),
    ("camera", "drop_frames", "read", {"frames": 3}),
    ("camera", "late_frames", "read", {"delay_s": 0.5}),
    ("power_meter", "timeout", "read", {}),
    ("power_meter", "garbage", "read", {}),
    ("power_meter", "disconnect", "read", {}),
    ("power_meter", "out_of_range", "read", {}),
    ("attenuator", "timeout", "move", {}),
    ("attenuator", "garbage", "move", {}),
    ("attenuator", "disconnect", "move", {}),
    ("attenuator", "stall", "move", {}),
    ("wavelength_selector", "timeout", "move", {}),
    ("wavelength_selector", "garbage", "move", {}),
    ("wavelength_selector", "disconnect", "move", {}),
    ("wavelength_selector", "stall", "move", {}),
]
#: Faults the acquisition absorbs: the scan finishes, the loss is in the data.
ABSORBED = {("camera", "drop_frames"), ("camera", "late_frames", 0.5)}

#: A lost link to the pump shutter: its state cannot be confirmed, so the scan stops at once.
UNVERIFIABLE_PUMP = {("pump_shutter", "disconnect")}

RESULTS: dict[str, str] = {}


def cell_id(cell: tuple[str, str, str, dict[str, Any]]) -> str:
    role, kind, _, extra = cell
    suffix = f"({extra['delay_s']:g} s)" if kind == "late_frames" else ""
    return f"{role}-{kind}{suffix}"


def absorbed(cell: tuple[str, str, str, dict[str, Any]]) -> bool:
    role, kind, _, extra = cell
    return (role, kind) in ABSORBED or (role, kind, extra.get("delay_s")) in ABSORBED


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def baseline(folder: Path) -> dict[str, Any]:
    """A clean run: how often each operation has been called at the first stored point."""
    plan, rig_file = write_plan(folder), write_rig(folder, name="clean.toml")
    operations = sorted({(role, op) for role, _, op, _ in CELLS})
    first: dict[tuple[str, str], int] = {}
    with build_rig(rig_file) as rig:
        world = World.of(rig)

        def on_event(event: object) -> None:
            if isinstance(event, PointDone) and not first:
                first.update(call_counts(world, operations))

        with start_scan(plan, out=folder / "clean.h5", rig=rig, subscribers=[on_event]) as scan:
            assert scan.run() == "finished"
            total = len(scan.resolved.points)
        final = call_counts(world, operations)
    return {"plan": plan, "clean_rig": rig_file, "first": first, "final": final, "total": total}


@pytest.mark.parametrize("cell", CELLS, ids=[cell_id(c) for c in CELLS])
def test_fault_cell(
    cell: tuple[str, str, str, dict[str, Any]],
    baseline: dict[str, Any],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    role, kind, operation, extra = cell
    name = cell_id(cell)
    RESULTS[name] = "FAILED"
    first, final = baseline["first"][(role, operation)], baseline["final"][(role, operation)]
    assert final > first, f"the plan never calls {role}.{operation} after its first point"
    spec = {"device": role, "kind": kind, "on_call": first + 1, "times": 10_000, **extra}
    if kind in ("timeout", "garbage", "disconnect", "stuck"):
        spec["operation"] = operation
    rig_file = write_rig(folder, [spec], name=f"{name}.toml")
    out = folder / f"{name}.h5"
    total = baseline["total"]

    with observed_cli(monkeypatch) as seen:
        result = run_cli(
            [
                *("scan", str(baseline["plan"]), "--rig", str(rig_file), "--out", str(out)),
                *("--quiet", "--max-retries", str(MAX_RETRIES)),
            ]
        )
    assert result.escaped is None and "Traceback" not in result.err, result.describe()
    assert any(f.spec.kind == kind for f in seen.world.faults.log), "the fault never fired"
    assert not seen.pump_truly_open(), "pump shutter blade open after the scan"

    if absorbed(cell):
        assert result.code == 0, result.describe()
        with open_scan(out) as f:
            assert f.status == "finished" and sorted(f.indices()) == list(range(total))
            if kind == "drop_frames":
                points = f.points()
                assert points["index"].size == total
                assert int(points["dropped_frames"].sum()) > 0
        RESULTS[name] = "absorbed: scan finished, loss recorded"
        return

    assert result.code == 1, result.describe()
    assert role in result.err, result.describe()
    unverifiable = (role, kind) in UNVERIFIABLE_PUMP
    if unverifiable:
        # the pump's state cannot be read: no retries, the operator is told to block the beam
        assert seen.backoffs == []
        assert "could not be confirmed closed" in result.err
    else:  # bounded retries with exponential back-off
        assert seen.backoffs == [BACKOFF_S * 2**i for i in range(MAX_RETRIES)]
    with open_scan(out) as f:
        assert f.status == "fault"
        faults = [e for e in f.events() if e["kind"] in ("fault", "error") and role in e["message"]]
        assert len(faults) >= (1 if unverifiable else MAX_RETRIES + 1), f.events()
        kept = len(f.indices())
        assert 1 <= kept < total

    with observed_cli(monkeypatch) as seen:
        resumed = run_cli(["scan", "--resume", str(out), "--rig", str(baseline["clean_rig"])])
    assert resumed.code == 0, resumed.describe()
    assert not seen.pump_truly_open()
    with open_scan(out) as f:
        assert f.status == "finished"
        assert Counter(f.indices()) == Counter(range(total))  # every point exactly once
    how = "stopped at once (pump unverifiable, alarm)" if unverifiable else "safe state reached"
    RESULTS[name] = f"{how}, data kept ({kept}/{total}), resumed"


def test_print_fault_matrix(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The table the issue asks for; every cell must have passed."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="fault matrix: tamrig scan on the simulated rig")
    for column in ("device", "fault", "outcome"):
        table.add_column(column)
    for cell in CELLS:
        role = cell[0]
        fault = cell_id(cell)[len(role) + 1 :]
        table.add_row(role, fault, RESULTS.get(cell_id(cell), "not run"))
    console = Console(width=140, record=True)
    console.print(table)
    text = console.export_text()
    (tmp_path_factory.getbasetemp() / "fault-matrix.txt").write_text(text)
    good = ("safe state", "stopped at once", "absorbed")
    missing = [cell_id(c) for c in CELLS if not RESULTS.get(cell_id(c), "").startswith(good)]
    assert not missing, f"cells not passing: {missing}"
