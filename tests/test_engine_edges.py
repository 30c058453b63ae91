"""The scan engine's ways out when the safe state itself fails: what the file and the
events then say."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_engine import Recorder, start

from tamrig.engine import Aborted, Finished, PointDone, ScanEvent
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
