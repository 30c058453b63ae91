"""What the engine overlaps and what it must still guarantee: the power reading and its time
with every point, the camera armed across points, the stage travelling while the last point
is stored, and a storage error that stops the scan before the next point is measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import write_variant
from test_engine import Recorder, start, tiny_plan

from simulators.world import World
from tamrig.acquisition.accumulator import DifferentialAccumulator
from tamrig.engine import BlockAcquired, PointDone
from tamrig.errors import StorageError
from tamrig.rig import Rig, build_rig
from tamrig.storage import open_scan


def count_calls(obj: Any, name: str, calls: list[str]) -> None:
    original = getattr(obj, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return original(*args, **kwargs)

    setattr(obj, name, counted)


def test_pick_off_meter_reads_during_every_point(sim_rig: Rig, tmp_path: Path) -> None:
    rec = Recorder()
    meter = sim_rig.power_meter
    assert meter is not None and not sim_rig.settings.power_meter_behind_shutter
    calls: list[str] = []
    count_calls(meter, "start_reading", calls)
    count_calls(meter, "read_power_w", calls)
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        calls.clear()  # the nominal calibration's sweep reads the meter too
        assert scan.run() == "finished"
    assert calls == ["start_reading"] * 10  # one concurrent reading per point, none blocking
    with open_scan(tmp_path / "scan.h5") as f:
        points = f.points()
    assert np.all(points["power_w"] > 0)
    times, ends = points["power_time"], points["timestamp"]
    assert np.all(np.isfinite(times)) and np.all(np.diff(times) > 0)
    assert np.all(times <= ends)  # taken during the point, recorded at its end
    assert np.all(times[1:] > ends[:-1])  # ... and after the point before


def test_the_acquisition_is_prepared_once_per_scan(
    sim_rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shape, dark frame and mask are checked and the accumulator built once per scan (and
    once for the dark frames); every point sums into a fresh copy of that template."""
    built: list[tuple[int, int]] = []
    fresh: list[int] = []
    real_init, real_fresh = DifferentialAccumulator.__init__, DifferentialAccumulator.fresh

    def init(self: DifferentialAccumulator, shape: tuple[int, int], *a: Any, **k: Any) -> None:
        built.append(shape)
        real_init(self, shape, *a, **k)

    def copy(self: DifferentialAccumulator) -> DifferentialAccumulator:
        fresh.append(1)
        return real_fresh(self)

    monkeypatch.setattr(DifferentialAccumulator, "__init__", init)
    monkeypatch.setattr(DifferentialAccumulator, "fresh", copy)
    rec = Recorder()
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        assert scan.run() == "finished"
    assert len(rec.of(PointDone)) == 10
    assert len(built) == 2 and len(fresh) == 10  # dark frames + template; one per point


def test_meter_behind_the_shutter_reads_once_per_fluence_and_sweep(tmp_path: Path) -> None:
    rig_file = write_variant(
        tmp_path,
        "power_behind_chopper = true",
        "power_behind_chopper = true\npower_meter_behind_shutter = true",
    )
    plan = tiny_plan(fluence={"unit": "n_abs", "values": [0.045, 0.09]})
    with build_rig(rig_file, overrides={"time_scale": 0.0}) as rig:
        meter = rig.power_meter
        assert meter is not None
        calls: list[str] = []
        count_calls(meter, "read_power_w", calls)
        count_calls(meter, "start_reading", calls)
        with start(rig, tmp_path, plan=plan) as scan:
            calls.clear()
            assert scan.run() == "finished"
            assert not rig.pump_shutter.is_open()
    assert calls == ["read_power_w"] * 4  # 2 fluences x 2 sweeps, 20 points
    with open_scan(tmp_path / "scan.h5") as f:
        points = f.points()
    keys = list(zip(points["sweep"].tolist(), points["fluence_index"].tolist()))
    for key in set(keys):
        rows = [i for i, k in enumerate(keys) if k == key]
        assert len(set(points["power_w"][rows].tolist())) == 1  # the one reading...
        assert len(set(points["power_time"][rows].tolist())) == 1  # ...and its time
    assert len(set(points["power_w"].tolist())) == 4


def test_camera_stays_armed_and_stage_moves_ahead(sim_rig: Rig, tmp_path: Path) -> None:
    camera, stage = sim_rig.camera, sim_rig.stage
    calls: list[str] = []
    count_calls(camera, "start", calls)
    count_calls(camera, "stop", calls)
    moves: list[tuple[float, int]] = []
    stored = 0
    real_move = stage.start_move

    def move(position_mm: float) -> None:
        moves.append((position_mm, stored))
        real_move(position_mm)

    stage.start_move = move  # type: ignore[method-assign]

    def on_event(event: object) -> None:
        nonlocal stored
        if isinstance(event, PointDone):
            stored = event.done

    plan = tiny_plan(sweeps={"count": 1})
    with start(sim_rig, tmp_path, plan=plan, subscribers=[on_event]) as scan:
        calls.clear()  # pre-flight's test read is not the scan's
        assert scan.run() == "finished"
    # dark frames (start, stop), one arming for the 5 points, the stop at the end
    assert calls == ["start", "stop", "start", "stop"]
    # every move after the first is issued before the point measured last is stored
    assert len(moves) == 5
    assert [done for _, done in moves[1:]] == [0, 1, 2, 3]


def test_storage_error_stops_before_the_next_point(sim_rig: Rig, tmp_path: Path) -> None:
    rec = Recorder()
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        real = scan.writer.write_point

        def failing(record: Any) -> None:
            if record.index == 3:
                raise StorageError(f"{scan.path}: writing point 3 failed: disk full")
            real(record)

        scan.writer.write_point = failing  # type: ignore[method-assign]
        with pytest.raises(StorageError, match="point 3"):
            scan.run()
        assert not sim_rig.pump_shutter.is_open()
    measured = {e.index for e in rec.of(BlockAcquired)}
    assert measured == {0, 1, 2, 3}  # point 4 was set up but never measured
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "aborted" and sorted(f.indices()) == [0, 1, 2]
    assert World.of(sim_rig).devices["camera"].acquiring is False


def test_preflight_reads_the_camera_once_per_start_and_resume(sim_rig: Rig, tmp_path: Path) -> None:
    from tamrig.engine.session import resume_scan

    calls: list[str] = []
    count_calls(sim_rig.camera, "start", calls)
    plan = tiny_plan(sweeps={"count": 1})
    scan = start(sim_rig, tmp_path, plan=plan)
    assert calls == ["start"]  # the one test read of the pre-flight
    with scan:
        scan.engine.abort("stop before the first point")
        assert scan.run() == "aborted"
    calls.clear()
    with resume_scan(tmp_path / "scan.h5", rig=sim_rig) as again:
        assert calls == ["start"]
        assert again.run() == "finished"
