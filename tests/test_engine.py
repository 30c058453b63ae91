"""The scan engine on the simulated rig: events, pause/resume/abort, faults, resume."""

from __future__ import annotations

import math
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulators.world import World
from tamrig.engine import (
    Aborted,
    BlockAcquired,
    Fault,
    Finished,
    Notice,
    Paused,
    PointDone,
    Resumed,
    ScanEngine,
    ScanEvent,
    ScanStarted,
    SweepDone,
)
from tamrig.engine.session import Scan, resume_scan, start_scan
from tamrig.errors import DeviceFault
from tamrig.plan import ScanPlan, plan_from_dict, validate_for
from tamrig.rig import Rig
from tamrig.storage import open_scan

WAIT_S = 60.0  # generous bound on a handshake between threads (never reached when healthy)


def tiny_plan(**changes: Any) -> ScanPlan:
    """2 sweeps x (4 delays + reference) = 10 points, quick on the simulated rig."""
    plan: dict[str, Any] = {
        "name": "tiny",
        "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
        "delays": {
            "reference_fs": 300.0,
            "segments": [{"kind": "list", "values": [-200, 0, 300, 1000]}],
        },
        "fluence": {"unit": "n_abs", "values": [0.09]},
        "probe": {"wavelengths_nm": [905.0]},
        "sweeps": {"count": 2, "order": "alternating"},
        "acquisition": {"pairs_per_point": 8, "block_frames": 16, "dark_frames": 4},
    }
    plan.update(changes)
    return plan_from_dict(plan)


class Recorder:
    """Collects events; optional hook runs on the engine thread for each event."""

    def __init__(self, hook: Any = None) -> None:
        self.events: list[ScanEvent] = []
        self.hook = hook

    def __call__(self, event: ScanEvent) -> None:
        self.events.append(event)
        if self.hook is not None:
            self.hook(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def start(rig: Rig, tmp_path: Path, plan: ScanPlan | None = None, **options: Any) -> Scan:
    options.setdefault("retry_backoff_s", 0.0)
    return start_scan(plan or tiny_plan(), out=tmp_path / "scan.h5", rig=rig, **options)


def stored_indices(path: Path) -> list[int]:
    with open_scan(path) as f:
        return sorted(f.indices())


def in_thread(scan: Scan) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def target() -> None:
        try:
            result.append(scan.run())
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def test_tiny_scan_end_to_end(sim_rig: Rig, tmp_path: Path) -> None:
    rec = Recorder()
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        assert scan.run() == "finished"
        assert scan.engine.state == "finished"
    assert isinstance(rec.events[0], ScanStarted) and isinstance(rec.events[-1], Finished)
    done = rec.of(PointDone)
    assert [e.done for e in done] == list(range(1, 11))
    assert done[-1].progress == 1.0 and done[-1].eta_s == 0.0
    assert [e.sweep for e in rec.of(SweepDone)] == [0, 1]
    assert rec.of(Finished)[0].status == "finished"
    assert not sim_rig.pump_shutter.is_open()
    path = tmp_path / "scan.h5"
    assert stored_indices(path) == list(range(10))
    with open_scan(path) as f:
        assert f.status == "finished"
        points = f.points()
        assert np.all(points["n_abs"] == 0.09)
        # the fluence column is µJ/cm² whatever unit the plan used (N_abs 0.045 ↔ 16.1)
        np.testing.assert_allclose(points["fluence_uj_cm2"], 2 * 16.1, rtol=0.01)
        np.testing.assert_allclose(points["fluence_measured_uj_cm2"], 2 * 16.1, rtol=0.05)
        assert np.all(np.isfinite(points["attenuator_setting"]))
        assert np.all(np.isfinite(points["power_w"])) and np.all(points["power_w"] > 0)
        assert points["reference"].sum() == 2  # one reference point per sweep
        assert set(points["series"]) == {"905nm/N=0.09", "905nm/N=0.09 ref"}
        stage = f.positions()["stage_mm"]
        expected = [sim_rig.delay_to_mm(d) for d in points["delay_fs"]]
        np.testing.assert_allclose(stage, expected, atol=1e-6)
        kinds = [e["kind"] for e in f.events()]
        assert "dark" in kinds and kinds.count("sweep") == 2 and kinds[-1] == "finish"
        # alternating order: the second sweep runs the delays backwards
        order = [d for d, s in zip(points["delay_fs"], points["sweep"]) if s == 1]
        assert order[1:] == [1000, 300, 0, -200]


def test_pause_and_resume_from_another_thread(sim_rig: Rig, tmp_path: Path) -> None:
    at_point = threading.Event()
    go_on = threading.Event()
    paused = threading.Event()

    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 3:
            at_point.set()
            go_on.wait(WAIT_S)  # hold the engine until the test thread has asked to pause
        if isinstance(event, Paused):
            paused.set()

    rec = Recorder(hook)
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        thread, result = in_thread(scan)
        assert at_point.wait(WAIT_S)
        scan.engine.pause()
        go_on.set()
        assert paused.wait(WAIT_S)
        assert scan.engine.state == "paused"
        assert not sim_rig.pump_shutter.is_open()  # pump closed while paused
        assert len(scan.writer.completed_indices()) == 3  # paused at the next safe point
        scan.engine.resume()
        thread.join(WAIT_S)
        assert result == ["finished"]
    assert stored_indices(tmp_path / "scan.h5") == list(range(10))
    kinds = [type(e) for e in rec.events]
    assert kinds.index(Paused) < kinds.index(Resumed)
    assert rec.of(Paused)[0].next_index == 3


def test_abort_keeps_data_and_resume_completes(sim_rig: Rig, tmp_path: Path) -> None:
    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 4:
            scan.engine.abort("operator stop")

    rec = Recorder(hook)
    scan = start(sim_rig, tmp_path, subscribers=[rec])
    with scan:
        thread, result = in_thread(scan)
        thread.join(WAIT_S)
    assert result == ["aborted"]
    assert rec.of(Aborted)[0].reason == "operator stop"
    assert rec.of(Finished)[0].status == "aborted"
    assert not sim_rig.pump_shutter.is_open()
    path = tmp_path / "scan.h5"
    with open_scan(path) as f:
        assert f.status == "aborted" and sorted(f.indices()) == [0, 1, 2, 3]
    rec2 = Recorder()
    with resume_scan(path, rig=sim_rig, subscribers=[rec2], retry_backoff_s=0.0) as again:
        assert again.run() == "finished"
    started = rec2.of(ScanStarted)[0]
    assert started.resumed and started.completed_points == 4
    assert [e.record.index for e in rec2.of(PointDone)] == list(range(4, 10))
    with open_scan(path) as f:
        assert f.status == "finished"
        assert Counter(f.indices()) == Counter(range(10))  # every point exactly once


def test_abort_while_paused(sim_rig: Rig, tmp_path: Path) -> None:
    paused = threading.Event()
    rec = Recorder(lambda e: paused.set() if isinstance(e, Paused) else None)
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        scan.engine.pause()  # before the first point
        thread, result = in_thread(scan)
        assert paused.wait(WAIT_S)
        scan.engine.abort()
        thread.join(WAIT_S)
    assert result == ["aborted"]
    assert stored_indices(tmp_path / "scan.h5") == []
    assert not sim_rig.pump_shutter.is_open()


def test_transient_fault_is_retried_and_logged(sim_rig: Rig, tmp_path: Path) -> None:
    World.of(sim_rig).faults.inject(device="stage", kind="timeout", operation="move", on_call=3)
    rec = Recorder()
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        assert scan.run() == "finished"
    faults = rec.of(Fault)
    assert len(faults) == 1 and faults[0].device == "stage" and not faults[0].fatal
    assert Counter(stored_indices(tmp_path / "scan.h5")) == Counter(range(10))
    with open_scan(tmp_path / "scan.h5") as f:
        logged = [e for e in f.events() if e["kind"] == "fault"]
        assert len(logged) == 1 and "stage" in logged[0]["message"]


def test_persistent_fault_stops_with_safe_state(sim_rig: Rig, tmp_path: Path) -> None:
    World.of(sim_rig).faults.inject(
        device="stage", kind="stall_error", operation="move", on_call=4, times=None
    )
    rec = Recorder()
    with start(sim_rig, tmp_path, subscribers=[rec], max_retries=2) as scan:
        with pytest.raises(DeviceFault) as info:
            scan.run()
        assert scan.engine.state == "fault"
    assert info.value.device == "stage"
    faults = rec.of(Fault)
    assert [f.attempt for f in faults] == [1, 2, 3] and faults[-1].fatal
    assert rec.of(Finished)[0].status == "fault"
    assert not sim_rig.pump_shutter.is_open()
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "fault"
        assert sorted(f.indices()) == [0, 1, 2]  # the 4th move fails: nothing skipped
        assert sum(e["kind"] == "fault" for e in f.events()) == 4  # 3 attempts + final


def test_fault_in_gui_mode_pauses_until_the_operator_resumes(sim_rig: Rig, tmp_path: Path) -> None:
    world = World.of(sim_rig)
    world.faults.inject(device="camera", kind="timeout", operation="read", on_call=5, times=None)
    paused = threading.Event()
    rec = Recorder(lambda e: paused.set() if isinstance(e, Paused) else None)
    with start(sim_rig, tmp_path, subscribers=[rec], fault_policy="pause", max_retries=1) as scan:
        thread, result = in_thread(scan)
        assert paused.wait(WAIT_S)
        assert rec.of(Fault)[-1].fatal
        assert "fault" in rec.of(Paused)[0].reason
        assert not sim_rig.pump_shutter.is_open()
        world.faults.clear()  # the operator fixes the camera…
        scan.engine.resume()  # …and resumes: the failed point is measured again
        thread.join(WAIT_S)
    assert result == ["finished"]
    assert Counter(stored_indices(tmp_path / "scan.h5")) == Counter(range(10))


def test_lost_connection_is_reconnected(sim_rig: Rig, tmp_path: Path) -> None:
    with start(sim_rig, tmp_path) as scan:  # (the calibration sweep also reads the meter)
        World.of(sim_rig).faults.inject(device="power_meter", kind="disconnect", on_call=3)
        assert scan.run() == "finished"
    with open_scan(tmp_path / "scan.h5") as f:
        kinds = [e["kind"] for e in f.events()]
        assert "reconnect" in kinds
        assert sorted(f.indices()) == list(range(10))


def test_subscriber_error_stops_the_scan_safely(sim_rig: Rig, tmp_path: Path) -> None:
    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 2:
            raise RuntimeError("display crashed")

    scan = start(sim_rig, tmp_path, subscribers=[Recorder(hook)])
    with scan, pytest.raises(RuntimeError, match="display crashed"):
        scan.run()
    assert not sim_rig.pump_shutter.is_open()
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "aborted" and sorted(f.indices()) == [0, 1]
        assert any("display crashed" in e["message"] for e in f.events())


def test_engine_runs_once(sim_rig: Rig, tmp_path: Path) -> None:
    with start(sim_rig, tmp_path, plan=tiny_plan(sweeps={"count": 1})) as scan:
        scan.run()
        with pytest.raises(RuntimeError, match="runs once"):
            scan.run()
        assert isinstance(scan.engine, ScanEngine)


def test_raw_frames_are_recorded_once_per_successful_point(sim_rig: Rig, tmp_path: Path) -> None:
    plan = tiny_plan(
        sweeps={"count": 1},
        acquisition={"pairs_per_point": 6, "block_frames": 4, "record_raw_frames": True},
    )
    with start(sim_rig, tmp_path, plan=plan) as scan:
        World.of(sim_rig).faults.inject(
            device="camera", kind="timeout", operation="read", on_call=4
        )
        assert scan.run() == "finished"
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.has_raw_frames
        for index in f.indices():
            frames = f.frames(index)
            assert frames.shape == (12, 64, 64)  # 6 pairs, none from the failed attempt
        table = f.frame_table()
        assert len(table["frame_id"]) == 12 * len(f.indices())


def test_shutter_scheme_scan(tmp_path: Path) -> None:
    from conftest import write_variant

    from tamrig.rig import build_rig

    rig_file = write_variant(
        tmp_path, 'kind = "simulated.camera"', 'kind = "simulated.camera"\nchopper = false'
    )
    plan = tiny_plan(
        sweeps={"count": 1},
        acquisition={"scheme": "shutter", "pairs_per_point": 8, "block_frames": 4},
    )
    with build_rig(rig_file) as rig, start(rig, tmp_path, plan=plan) as scan:
        assert scan.run() == "finished"
        assert not rig.pump_shutter.is_open()
    with open_scan(tmp_path / "scan.h5") as f:
        points = f.points()
        assert np.all(points["n_on"] >= 8) and np.all(points["n_off"] >= 8)
        assert sorted(f.indices()) == list(range(5))


def test_sweep_events_follow_the_nesting(sim_rig: Rig, tmp_path: Path) -> None:
    plan = tiny_plan(
        nesting=["sweep", "wavelength", "fluence"],
        fluence={"unit": "n_abs", "values": [0.045, 0.09]},
        delays={"segments": [{"kind": "list", "values": [0, 500]}]},
    )
    rec = Recorder()
    with start(sim_rig, tmp_path, plan=plan, subscribers=[rec]) as scan:
        assert scan.run() == "finished"
    sweeps = rec.of(SweepDone)
    assert [s.sweep for s in sweeps] == [0, 1]  # sweep outermost: one event per sweep…
    assert all(s.series == ("905nm/N=0.045", "905nm/N=0.09") for s in sweeps)  # …all curves
    fits = [e.record.fit for e in rec.of(PointDone)]
    # the live monitor tried a fit on every point (8 pairs: too noisy for most to converge)
    assert len(fits) == 8
    # (a noise fit may also end early, once chi2 stops falling with no spot in it)
    outcomes = ("converged", "no conv", "no spot")
    assert all(fit is not None and fit.message.startswith(outcomes) for fit in fits)


def test_plan_rejected_by_the_engine_finishes_the_file(sim_rig: Rig, tmp_path: Path) -> None:
    from tamrig.engine.session import make_monitor, scan_metadata
    from tamrig.errors import PlanError
    from tamrig.storage import ScanWriter

    good = tiny_plan(fluence=None)
    resolved = validate_for(good, sim_rig)
    writer = ScanWriter.create(tmp_path / "x.h5", scan_metadata(good, sim_rig, resolved, None))
    bad = tiny_plan(fluence=None, delays={"segments": [{"kind": "list", "values": [5e6]}]})
    engine = ScanEngine(sim_rig, bad, writer, make_monitor(50.0))
    rec = Recorder()
    engine.subscribe(rec)
    with writer, pytest.raises(PlanError) as info:
        engine.run()  # no pre-checked plan given: the engine checks it itself
    assert engine.state == "aborted"
    (finished,) = rec.of(Finished)
    assert (finished.status, finished.done, finished.total) == ("aborted", 0, 0)
    assert rec.of(Aborted)[0].reason == str(info.value)
    with open_scan(tmp_path / "x.h5") as f:
        assert f.status == "aborted" and f.indices() == []
        assert f.events()[-2]["kind"] == "error"


def test_resuming_a_finished_scan_measures_nothing(sim_rig: Rig, tmp_path: Path) -> None:
    plan = tiny_plan(sweeps={"count": 1})
    with start(sim_rig, tmp_path, plan=plan) as scan:
        scan.run()
    rec = Recorder()
    with resume_scan(tmp_path / "scan.h5", rig=sim_rig, subscribers=[rec]) as again:
        assert again.run() == "finished"
    assert rec.of(PointDone) == []
    assert rec.of(ScanStarted)[0].completed_points == 5
    assert Counter(stored_indices(tmp_path / "scan.h5")) == Counter(range(5))


def test_resume_with_a_changed_rig_file_leaves_no_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import SIM_RIG

    rig_file = tmp_path / "rig.toml"
    rig_file.write_text(SIM_RIG.read_text())
    with start_scan(tiny_plan(sweeps={"count": 1}), out=tmp_path / "scan.h5", rig=rig_file) as s:
        s.run()
    rig_file.write_text(rig_file.read_text() + "\n# edited after the scan\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with resume_scan(tmp_path / "scan.h5") as again:  # the rig text stored in the file
        rec = Recorder()
        stop = again.subscribe(rec)
        stop()  # the handle Scan.subscribe returns takes the subscriber off again
        assert again.run() == "finished"
    assert rec.events == []
    assert list(scratch.iterdir()) == []


def test_abort_during_an_acquisition_stops_that_point(sim_rig: Rig, tmp_path: Path) -> None:
    """An abort while a point's frames are being read ends the point after the current block:
    no further block is read, the half-measured point is not stored, the pump is closed."""
    plan = tiny_plan(sweeps={"count": 1}, acquisition={"pairs_per_point": 8, "block_frames": 4})
    abort_after = 3  # the third block of point 2 (a point takes at least 4 blocks)

    def hook(event: ScanEvent) -> None:
        blocks = [e for e in rec.of(BlockAcquired) if e.index == 2]
        if isinstance(event, BlockAcquired) and len(blocks) == abort_after:
            scan.engine.abort("operator stop mid-point")

    rec = Recorder(hook)
    scan = start(sim_rig, tmp_path, plan=plan, subscribers=[rec])
    with scan:
        assert scan.run() == "aborted"
    blocks = [e.index for e in rec.of(BlockAcquired)]
    assert blocks.count(2) == abort_after  # not one block after the request
    assert blocks.count(1) >= 4 and 3 not in blocks
    assert [e.record.index for e in rec.of(PointDone)] == [0, 1]
    assert rec.of(Aborted)[0].reason == "operator stop mid-point"
    assert not sim_rig.pump_shutter.is_open()
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "aborted" and sorted(f.indices()) == [0, 1]
        aborts = [e for e in f.events() if e["kind"] == "abort"]
        assert [e["message"] for e in aborts] == ["operator stop mid-point"]


def test_attenuator_position_is_recorded_with_every_point(sim_rig: Rig, tmp_path: Path) -> None:
    plan = tiny_plan(sweeps={"count": 1}, fluence={"unit": "n_abs", "values": [0.045, 0.09]})
    rec = Recorder()
    with start(sim_rig, tmp_path, plan=plan, subscribers=[rec]) as scan:
        assert scan.run() == "finished"
        settings = {f.label: f.setting for f in scan.resolved.fluences}
    records = [e.record for e in rec.of(PointDone)]
    assert len(settings) == 2 and all(s is not None for s in settings.values())
    assert len(set(settings.values())) == 2  # two fluences, two attenuator settings
    for record in records:
        wanted = settings[record.fluence_label]
        assert record.attenuator_setting == pytest.approx(wanted, abs=1e-3)
        assert record.positions["attenuator_setting"] == record.attenuator_setting
        assert record.positions["probe_wavelength_nm"] == pytest.approx(905.0)
    with open_scan(tmp_path / "scan.h5") as f:
        stored = f.positions()["attenuator_setting"]
        by_index = {r.index: r.attenuator_setting for r in records}
        np.testing.assert_allclose(stored, [by_index[i] for i in f.indices()])


def test_fault_event_names_the_point_it_happened_at(sim_rig: Rig, tmp_path: Path) -> None:
    """One stage move per point: the 4th move is point 3's."""
    World.of(sim_rig).faults.inject(device="stage", kind="timeout", operation="move", on_call=4)
    rec = Recorder()
    with start(sim_rig, tmp_path, plan=tiny_plan(sweeps={"count": 1}), subscribers=[rec]) as scan:
        assert scan.run() == "finished"
    (fault,) = rec.of(Fault)
    assert (fault.index, fault.attempt, fault.max_attempts, fault.fatal) == (3, 1, 4, False)
    with open_scan(tmp_path / "scan.h5") as f:
        (logged,) = [e for e in f.events() if e["kind"] == "fault"]
        assert logged["point_index"] == 3
        assert logged["message"].endswith("(at point 3, attempt 1 of 4)")


def test_progress_and_eta_follow_the_measured_point_durations(sim_rig: Rig, tmp_path: Path) -> None:
    """A clock that moves 1 + (point index) seconds per camera block: the points take
    different times, and the ETA after point k is (points left) × (mean duration of the
    last points), not of the last one alone."""
    now = [0.0]
    blocks: Counter[int] = Counter()

    def hook(event: ScanEvent) -> None:
        if isinstance(event, BlockAcquired):
            blocks[event.index] += 1
            now[0] += 1.0 + event.index

    rec = Recorder(hook)
    with start(sim_rig, tmp_path, subscribers=[rec], clock=lambda: now[0]) as scan:
        assert scan.run() == "finished"
    done = rec.of(PointDone)
    assert [blocks[e.record.index] for e in done] == [1] * 10  # 8 pairs: one 16-frame block
    durations = [1.0 + e.record.index for e in done]
    for k, event in enumerate(done, start=1):
        recent = durations[:k][-20:]
        assert event.progress == k / 10
        assert event.eta_s == pytest.approx((10 - k) * sum(recent) / len(recent))
    (finished,) = rec.of(Finished)
    assert (finished.done, finished.total) == (10, 10)
    assert finished.elapsed_s == pytest.approx(sum(durations))


def test_a_second_abort_keeps_the_first_reason(sim_rig: Rig, tmp_path: Path) -> None:
    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 1:
            scan.engine.abort("operator stop")
            scan.engine.abort("Ctrl-C", kind="interrupted")

    rec = Recorder(hook)
    scan = start(sim_rig, tmp_path, subscribers=[rec])
    with scan:
        assert scan.run() == "aborted"
    assert [e.reason for e in rec.of(Aborted)] == ["operator stop"]
    with open_scan(tmp_path / "scan.h5") as f:
        ends = [(e["kind"], e["message"]) for e in f.events() if e["kind"] != "sweep"]
        assert ends[-2:] == [
            ("abort", "operator stop"),
            ("finish", "scan aborted: 1 points stored"),
        ]


def test_an_interrupt_is_logged_as_such(sim_rig: Rig, tmp_path: Path) -> None:
    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 2:
            scan.engine.abort("interrupted by Ctrl-C", kind="interrupted")

    scan = start(sim_rig, tmp_path, subscribers=[Recorder(hook)])
    with scan:
        assert scan.run() == "aborted"
    with open_scan(tmp_path / "scan.h5") as f:
        kinds = [e["kind"] for e in f.events()]
        assert "interrupted" in kinds and "abort" not in kinds
        assert sorted(f.indices()) == [0, 1]


def test_fluence_drift_beyond_the_tolerance_is_noticed(sim_rig: Rig, tmp_path: Path) -> None:
    """Measured fluence is stored with every point; off the target by more than the drift
    tolerance, a Notice and a file event name the point."""
    plan = tiny_plan(sweeps={"count": 1})
    tight = Recorder()
    with start(sim_rig, tmp_path, plan=plan, subscribers=[tight], drift_tolerance=1e-9) as scan:
        assert scan.run() == "finished"
    notices = [n for n in tight.of(Notice) if n.kind == "fluence_drift"]
    records = {e.record.index: e.record for e in tight.of(PointDone)}
    assert [n.index for n in notices] == sorted(records)
    for n in notices:
        record = records[n.index]
        target = record.fluence_uj_cm2
        assert record.fluence_measured_uj_cm2 == pytest.approx(target, rel=0.2)
        assert math.isfinite(record.n_abs_measured)
        assert record.n_abs_measured == pytest.approx(0.09, rel=0.2)
        assert n.message.startswith(f"pump fluence {record.fluence_measured_uj_cm2:.4g} uJ/cm2 is")
        assert n.message.endswith(f"off the target {target:.4g} uJ/cm2 (tolerance ±0%)")
    with open_scan(tmp_path / "scan.h5") as f:
        logged = [e["point_index"] for e in f.events() if e["kind"] == "fluence_drift"]
        assert logged == sorted(records)
    loose = Recorder()
    out = tmp_path / "loose"
    out.mkdir()
    with start(sim_rig, out, plan=plan, subscribers=[loose], drift_tolerance=0.5) as scan:
        assert scan.run() == "finished"
    assert [n for n in loose.of(Notice) if n.kind == "fluence_drift"] == []


def test_no_fluence_is_measured_without_a_reading_or_a_target(sim_rig: Rig, tmp_path: Path) -> None:
    """A point without a power reading, or a fluence without a known target, stores NaN for
    the measured fluence and ⟨N_abs⟩ and raises no drift notice (either alone suffices)."""
    import dataclasses

    rec = Recorder()
    with start(
        sim_rig,
        tmp_path,
        plan=tiny_plan(sweeps={"count": 1}),
        subscribers=[rec],
        drift_tolerance=1e-9,
    ) as scan:
        assert scan.run() == "finished"
        engine = scan.engine
        point = rec.of(PointDone)[0].record
        fluence = engine._resolved.fluences[0]  # type: ignore[union-attr]
        unknown = dataclasses.replace(fluence, fluence_uj_cm2=math.nan)
        before = len(rec.of(Notice))
        for target, power_w in ((fluence, None), (unknown, 1e-3)):
            measured = engine._fluence_check(point, target, power_w)  # type: ignore[arg-type]
            assert all(math.isnan(v) for v in measured)
        assert len(rec.of(Notice)) == before
        # with both, the fluence is measured (and, at this tolerance, noticed)
        assert math.isfinite(engine._fluence_check(point, fluence, 1e-3)[0])  # type: ignore[arg-type]
        assert len(rec.of(Notice)) == before + 1


def test_without_retries_the_first_fault_is_final(sim_rig: Rig, tmp_path: Path) -> None:
    World.of(sim_rig).faults.inject(device="stage", kind="timeout", operation="move", on_call=2)
    rec = Recorder()
    plan = tiny_plan(sweeps={"count": 1})
    scan = start(sim_rig, tmp_path, plan=plan, subscribers=[rec], max_retries=0)
    with scan, pytest.raises(DeviceFault):
        scan.run()
    (fault,) = rec.of(Fault)
    assert (fault.index, fault.attempt, fault.max_attempts, fault.fatal) == (1, 1, 1, True)
    with pytest.raises(ValueError, match="max_retries must be >= 0"):
        start(sim_rig, tmp_path / "other", plan=plan, max_retries=-1)


def test_state_is_running_while_points_are_measured(sim_rig: Rig, tmp_path: Path) -> None:
    seen: list[str] = []
    rec = Recorder(lambda e: seen.append(scan.engine.state) if isinstance(e, PointDone) else None)
    scan = start(sim_rig, tmp_path, plan=tiny_plan(sweeps={"count": 1}), subscribers=[rec])
    with scan:
        assert scan.engine.state == "idle"
        assert scan.run() == "finished"
    assert seen == ["running"] * 5
    assert scan.engine.state == "finished"


def test_an_error_at_the_last_point_still_ends_the_scan_safely(
    sim_rig: Rig, tmp_path: Path
) -> None:
    """The last point is stored on the writer thread: its subscriber's error must still
    reach run() and leave the file aborted, not finished."""

    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 5:
            raise RuntimeError("display crashed at the end")

    scan = start(
        sim_rig, tmp_path, plan=tiny_plan(sweeps={"count": 1}), subscribers=[Recorder(hook)]
    )
    with scan, pytest.raises(RuntimeError, match="display crashed at the end"):
        scan.run()
    assert scan.engine.state == "aborted"
    assert not sim_rig.pump_shutter.is_open()
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "aborted" and sorted(f.indices()) == list(range(5))
        assert any(e["message"] == "display crashed at the end" for e in f.events())


def test_a_rig_without_a_probe_shutter_scans_without_dark_frames(tmp_path: Path) -> None:
    from conftest import write_variant

    from tamrig.rig import build_rig

    rig_file = write_variant(tmp_path, '[devices.probe_shutter]\nkind = "simulated.shutter"\n', "")
    plan = tiny_plan(
        sweeps={"count": 1},
        acquisition={"pairs_per_point": 8, "block_frames": 16, "dark_frames": 0},
    )
    with build_rig(rig_file, overrides={"time_scale": 0.0}) as rig:
        assert rig.probe_shutter is None
        with start(rig, tmp_path, plan=plan) as scan:
            assert scan.run() == "finished"
    with open_scan(tmp_path / "scan.h5") as f:
        assert sorted(f.indices()) == list(range(5))
        assert "dark" not in [e["kind"] for e in f.events()]


def test_reference_trend_is_reported_once_two_sweeps_have_it(sim_rig: Rig, tmp_path: Path) -> None:
    """The reference delay is measured once per sweep; from the second sweep on, each new
    reference point brings a Notice with the trend of the reference spot."""
    rec = Recorder()
    with start(sim_rig, tmp_path, subscribers=[rec]) as scan:
        assert scan.run() == "finished"
    refs = [e.record.index for e in rec.of(PointDone) if e.record.reference]
    assert len(refs) == 2
    notices = [n for n in rec.of(Notice) if n.kind == "reference"]
    assert [n.index for n in notices] == refs[1:]
    assert notices[0].message.startswith("905nm/N=0.09 ref")


def test_pause_is_logged_and_the_state_is_running_again_after_resume(
    sim_rig: Rig, tmp_path: Path
) -> None:
    states: list[tuple[int, str]] = []

    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone):
            states.append((event.done, scan.engine.state))
            if event.done == 2:
                scan.engine.pause()
        if isinstance(event, Paused):
            scan.engine.resume()  # at once, from the engine's own thread

    scan = start(
        sim_rig, tmp_path, plan=tiny_plan(sweeps={"count": 1}), subscribers=[Recorder(hook)]
    )
    with scan:
        assert scan.run() == "finished"
    assert states == [(k, "running") for k in range(1, 6)]
    with open_scan(tmp_path / "scan.h5") as f:
        log = [(e["kind"], e["message"], e["point_index"]) for e in f.events()]
    assert ("pause", "paused by the operator", 2) in log
    assert ("resume", "resumed", 2) in log


def test_a_fault_again_after_the_operator_resumes_counts_its_attempts_afresh(
    sim_rig: Rig, tmp_path: Path
) -> None:
    """Pause policy, no retries: each failure of the same point pauses the scan; after the
    operator resumes, the next failure is attempt 1 again, not attempt 2."""
    World.of(sim_rig).faults.inject(
        device="stage", kind="timeout", operation="move", on_call=2, times=2
    )
    rec = Recorder(lambda e: scan.engine.resume() if isinstance(e, Paused) else None)
    scan = start(
        sim_rig,
        tmp_path,
        plan=tiny_plan(sweeps={"count": 1}),
        subscribers=[rec],
        fault_policy="pause",
        max_retries=0,
    )
    with scan:
        assert scan.run() == "finished"
    faults = [(f.index, f.attempt, f.max_attempts, f.fatal) for f in rec.of(Fault)]
    assert faults == [(1, 1, 1, True), (1, 1, 1, True)]
    assert len(rec.of(Paused)) == 2
    assert Counter(stored_indices(tmp_path / "scan.h5")) == Counter(range(5))


def test_every_shutter_is_closed_on_the_ways_out(sim_rig: Rig, tmp_path: Path) -> None:
    """The safe state is more than the pump: after a fatal fault (while the operator is
    asked) and after an abort, the probe shutter is closed too."""
    World.of(sim_rig).faults.inject(device="stage", kind="timeout", operation="move", on_call=2)
    probe_open_when_paused: list[bool] = []

    def hook(event: ScanEvent) -> None:
        if isinstance(event, Paused):
            probe_open_when_paused.append(sim_rig.probe_shutter.is_open())
            scan.engine.resume()
        if isinstance(event, PointDone) and event.done == 3:
            scan.engine.abort("operator stop")

    plan = tiny_plan(sweeps={"count": 1})
    options = {"fault_policy": "pause", "max_retries": 0}
    scan = start(sim_rig, tmp_path, plan=plan, subscribers=[Recorder(hook)], **options)
    with scan:
        assert scan.run() == "aborted"
    assert probe_open_when_paused == [False]
    assert not sim_rig.probe_shutter.is_open() and not sim_rig.pump_shutter.is_open()


def test_the_last_point_of_each_run_of_a_series_settles_the_live_fit(
    sim_rig: Rig, tmp_path: Path
) -> None:
    """The monitor refits a curve in full when its run ends (the next point is another's,
    or the scan ends), so the stored point that ends a run carries analyze's σ₀."""
    plan = tiny_plan(
        nesting=["sweep", "wavelength", "fluence"],
        fluence={"unit": "n_abs", "values": [0.045, 0.09]},
        delays={"segments": [{"kind": "list", "values": [0, 200, 500]}]},
    )
    calls: list[tuple[str, bool]] = []
    with start(sim_rig, tmp_path, plan=plan) as scan:
        monitor = scan.engine.monitor
        assert monitor is not None
        update = monitor.update

        def recording(**kwargs: Any) -> Any:
            calls.append((kwargs["series"], kwargs.get("settle", False)))
            return update(**kwargs)

        monitor.update = recording  # type: ignore[method-assign]
        assert scan.run() == "finished"
    runs = [name for name, _ in calls]
    ends = [i == len(runs) - 1 or runs[i + 1] != runs[i] for i in range(len(runs))]
    assert [settle for _, settle in calls] == ends
    assert sum(ends) == 4  # two sweeps of two curves
