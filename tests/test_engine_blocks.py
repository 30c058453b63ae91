"""The engine's per-block event: what live views (camera image, running ΔT/T) subscribe to."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from tamrig.engine import BlockAcquired, PointDone, ScanEvent
from tamrig.engine.session import start_scan
from tamrig.plan import plan_from_dict
from tamrig.rig import Rig


def _plan(scheme: str) -> object:
    return plan_from_dict(
        {
            "name": "blocks",
            "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
            "delays": {"segments": [{"kind": "list", "values": [-200, 0, 300]}]},
            "fluence": {"unit": "n_abs", "values": [0.09]},
            "probe": {"wavelengths_nm": [905.0]},
            "acquisition": {
                "pairs_per_point": 24,
                "block_frames": 16,
                "dark_frames": 4,
                "scheme": scheme,
            },
        }
    )


def _run(rig: Rig, tmp_path: Path, scheme: str) -> list[ScanEvent]:
    events: list[ScanEvent] = []
    plan = _plan(scheme)
    with start_scan(plan, out=tmp_path / f"{scheme}.h5", rig=rig, subscribers=[events.append]) as s:  # type: ignore[arg-type]
        assert s.run() == "finished"
    return events


def test_every_accumulated_frame_is_announced_before_its_point(
    sim_rig: Rig, tmp_path: Path
) -> None:
    for scheme in ("chopper", "shutter"):
        events = _run(sim_rig, tmp_path, scheme)
        on: dict[int, int] = defaultdict(int)
        off: dict[int, int] = defaultdict(int)
        done: list[int] = []
        for event in events:
            if isinstance(event, BlockAcquired):
                assert event.index not in done  # blocks of a point come before its PointDone
                assert event.pump_on.shape == (len(event.block),)
                on[event.index] += int(np.count_nonzero(event.pump_on))
                off[event.index] += int(np.count_nonzero(~event.pump_on))
            elif isinstance(event, PointDone):
                done.append(event.record.index)
                image = event.record.image
                assert on[event.record.index] >= image.n_on > 0
                assert off[event.record.index] >= image.n_off > 0
        assert sorted(done) == [0, 1, 2]
