"""The camera interface's discard contract (``Camera.discard_pending``), held by the
simulated camera as the GenICam driver's tests hold it on a scripted producer and viky:
the first frame after a discard began its exposure after the call, the frames left out
are not drops, ids keep increasing and each frame keeps its own pump-state tag."""

from __future__ import annotations

import numpy as np
from test_sim_support import sim_rig

from simulators.world import World


def test_simulated_camera_discard_keeps_the_contract() -> None:
    with sim_rig() as rig:
        cam, clock = rig.camera, World.of(rig).clock
        period = cam.frame_period_s()
        cam.start()
        try:
            before = cam.read(6)
            clock.sleep(0.05)  # the stage moves while frames keep coming
            called = clock.now()
            cam.discard_pending()
            after = cam.read(6)
            assert cam.acquiring and cam.dropped_frames == 0 and after.dropped == 0
        finally:
            cam.stop()
        cam.discard_pending()  # not acquiring: nothing to drop, nothing started
        assert not cam.acquiring
    assert after.timestamp_s[0] - period >= called - 1e-9  # exposure began after the call
    assert after.frame_id[0] > before.frame_id[-1] and np.all(np.diff(after.frame_id) == 1)
    assert after.pump_on is not None and np.all(after.pump_on[1:] != after.pump_on[:-1])
