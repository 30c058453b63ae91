"""The scan engine's ways out when the safe state itself fails: what the file and the
events then say."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from test_engine import Recorder, start, tiny_plan

from simulators.world import World
from tamrig.engine import Aborted, Fault, Finished, PointDone, ScanEvent, SweepDone
from tamrig.engine.session import start_scan
from tamrig.errors import DeviceFault
from tamrig.rig import Rig
from tamrig.storage import open_scan


def test_a_pump_shutter_unconfirmed_at_the_end_of_an_abort_makes_it_a_fault(
    sim_rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator stops after the first point; closing the pump shutter then cannot be
    confirmed. The scan must not look merely aborted: it raises that fault, the file ends
    as "fault" with both reasons, and no Aborted event is sent."""

    def shutter_unconfirmed() -> None:
        raise DeviceFault("pump shutter", "closed position not confirmed")

    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 1:
            monkeypatch.setattr(sim_rig, "safe_state", shutter_unconfirmed)
            scan.engine.abort("operator stop")

    rec = Recorder(hook)
    scan = start(sim_rig, tmp_path, subscribers=[rec])
    with scan, pytest.raises(DeviceFault, match="closed position not confirmed"):
        scan.run()
    assert rec.of(Aborted) == []
    (finished,) = rec.of(Finished)
    assert (finished.status, finished.done, finished.total) == ("fault", 1, 10)
    assert scan.engine.state == "fault"
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "fault"
        ends = [(e["kind"], e["message"]) for e in f.events() if e["kind"] != "sweep"]
        assert ends[-3:] == [
            ("abort", "operator stop"),
            ("fault", "pump shutter: closed position not confirmed"),
            ("finish", "scan fault: 1 points stored"),
        ]


def test_an_abort_during_a_retry_back_off_ends_the_scan_without_waiting_it_out(
    sim_rig: Rig, tmp_path: Path
) -> None:
    """A stage timeout at point 3 starts an hour's back-off before the retry; the operator
    stops when the fault is reported. The scan ends at once, aborted, with points 0–2 (a
    back-off waited out would hold the test until its timeout)."""
    World.of(sim_rig).faults.inject(device="stage", kind="timeout", operation="move", on_call=4)

    def hook(event: ScanEvent) -> None:
        if isinstance(event, Fault):
            scan.engine.abort("operator stop")

    rec = Recorder(hook)
    plan = tiny_plan(sweeps={"count": 1})
    scan = start(sim_rig, tmp_path, plan=plan, subscribers=[rec], retry_backoff_s=3600.0)
    with scan:
        assert scan.run() == "aborted"
    (fault,) = rec.of(Fault)
    assert (fault.index, fault.attempt, fault.fatal) == (3, 1, False)
    assert [e.reason for e in rec.of(Aborted)] == ["operator stop"]
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "aborted" and sorted(f.indices()) == [0, 1, 2]


def test_an_unexpected_error_ends_the_scan_aborted_with_its_message(
    sim_rig: Rig, tmp_path: Path
) -> None:
    """A subscriber that raises after the second point: the error propagates, the file and
    the events say "aborted" with the error's text, and no writer thread is left behind."""

    def hook(event: ScanEvent) -> None:
        if isinstance(event, PointDone) and event.done == 2:
            raise RuntimeError("display crashed")

    rec = Recorder(hook)
    scan = start(sim_rig, tmp_path, subscribers=[rec])
    writers_before = {t for t in threading.enumerate() if t.name == "tamrig-writer"}
    with scan, pytest.raises(RuntimeError, match=r"^display crashed$"):
        scan.run()
    assert [e.reason for e in rec.of(Aborted)] == ["display crashed"]
    (finished,) = rec.of(Finished)
    assert (finished.status, finished.done, finished.total) == ("aborted", 2, 10)
    assert scan.engine.state == "aborted"
    writers = {t for t in threading.enumerate() if t.name == "tamrig-writer"}
    assert writers - writers_before == set()
    with open_scan(tmp_path / "scan.h5") as f:
        assert f.status == "aborted" and len(f.indices()) == 2
        ends = [(e["kind"], e["message"]) for e in f.events() if e["kind"] != "sweep"]
        assert ends[-2:] == [
            ("error", "display crashed"),
            ("finish", "scan aborted: 2 points stored"),
        ]


def test_retries_back_off_twice_as_long_each_time_from_half_a_second(
    sim_rig: Rig, tmp_path: Path
) -> None:
    """Three stage timeouts in a row at point 3, the fourth attempt works: the engine's
    default back-offs before the retries are 0.5, 1 and 2 s (recorded here, not waited)."""
    World.of(sim_rig).faults.inject(
        device="stage", kind="timeout", operation="move", on_call=4, times=3
    )
    rec = Recorder()
    plan = tiny_plan(sweeps={"count": 1})
    scan = start_scan(plan, out=tmp_path / "scan.h5", rig=sim_rig, subscribers=[rec])
    waits: list[float] = []
    scan.engine._backoff = waits.append  # type: ignore[method-assign]
    with scan:
        assert scan.run() == "finished"
    assert waits == [0.5, 1.0, 2.0]
    assert [(f.index, f.attempt, f.max_attempts, f.fatal) for f in rec.of(Fault)] == [
        (3, 1, 4, False),
        (3, 2, 4, False),
        (3, 3, 4, False),
    ]


def test_a_sweep_ends_once_for_all_the_wavelengths_and_fluences_inside_it(
    sim_rig: Rig, tmp_path: Path
) -> None:
    plan = tiny_plan(
        nesting=["sweep", "wavelength", "fluence"],
        probe={"wavelengths_nm": [905.0, 670.0]},
        fluence={"unit": "n_abs", "values": [0.045, 0.09]},
        delays={"segments": [{"kind": "list", "values": [0, 500]}]},
    )
    rec = Recorder()
    with start(sim_rig, tmp_path, plan=plan, subscribers=[rec]) as scan:
        assert scan.run() == "finished"
    curves = ("670nm/N=0.045", "670nm/N=0.09", "905nm/N=0.045", "905nm/N=0.09")  # sorted
    assert [(s.sweep, s.n_sweeps, s.series) for s in rec.of(SweepDone)] == [
        (0, 2, curves),
        (1, 2, curves),
    ]


def test_a_lost_link_is_closed_before_it_is_opened_again(
    sim_rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The power meter drops its link: before the retry the engine closes the old link and
    opens a new one (a serial port left open would refuse the new connection), and says so
    in the file."""
    meter = sim_rig.devices["power_meter"]
    calls: list[str] = []
    for name in ("disconnect", "connect"):
        real = getattr(meter, name)

        def spy(*args: object, _name: str = name, _real: object = real) -> object:
            calls.append(_name)
            return _real(*args)  # type: ignore[operator]

        monkeypatch.setattr(meter, name, spy)
    with start(sim_rig, tmp_path) as scan:
        World.of(sim_rig).faults.inject(device="power_meter", kind="disconnect", on_call=3)
        assert scan.run() == "finished"
    assert calls[-2:] == ["disconnect", "connect"]
    with open_scan(tmp_path / "scan.h5") as f:
        reconnects = [e["message"] for e in f.events() if e["kind"] == "reconnect"]
        assert reconnects == ["power_meter reconnected"]
