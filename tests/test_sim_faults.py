"""Fault injection on every simulated device: rig file or run time, deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_variant
from test_sim_support import sim_rig

from simulators.faults import FaultSpec
from simulators.world import World
from tamrig.errors import (
    DeviceDisconnected,
    DeviceFault,
    DeviceProtocolError,
    DeviceStateError,
    DeviceTimeout,
)
from tamrig.rig import build_rig

ALL_ROLES = (
    "stage",
    "pump_shutter",
    "probe_shutter",
    "camera",
    "power_meter",
    "attenuator",
    "wavelength_selector",
)


def poke(rig: object, role: str) -> None:
    """One ordinary call of the device playing ``role`` (counted by the injector)."""
    r = rig  # type: ignore[assignment]
    if role == "stage":
        r.stage.position_mm()  # type: ignore[attr-defined]
    elif role.endswith("shutter"):
        r.devices[role].is_open()  # type: ignore[attr-defined]
    elif role == "camera":
        r.camera.start()  # type: ignore[attr-defined]
        r.camera.stop()  # type: ignore[attr-defined]
    elif role == "power_meter":
        r.power_meter.read_power_w()  # type: ignore[attr-defined]
    elif role == "attenuator":
        r.attenuator.setting()  # type: ignore[attr-defined]
    else:
        r.wavelength_selector.wavelength_nm()  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(
    ("kind", "error", "text"),
    [
        ("timeout", DeviceTimeout, "no reply"),
        ("garbage", DeviceProtocolError, "unparseable reply"),
        ("disconnect", DeviceDisconnected, "connection lost"),
    ],
)
def test_generic_faults_on_every_device(
    role: str, kind: str, error: type[DeviceFault], text: str
) -> None:
    with sim_rig() as rig:
        world = World.of(rig)
        world.faults.inject(device=role, kind=kind, delay_s=2.0)
        t0 = world.clock.now()
        with pytest.raises(error, match=text) as info:
            poke(rig, role)
        assert info.value.device == role
        if kind == "timeout":
            assert world.clock.now() - t0 >= 2.0 - 1e-9  # the wait happened (in simulated time)
        if kind == "disconnect":
            with pytest.raises(DeviceDisconnected):
                poke(rig, role)  # stays lost ...
            rig.devices[role].connect()  # ... until reconnected
        poke(rig, role)  # fired once: the device works again
        assert world.faults.log[-1].spec.kind == kind
        if role == "pump_shutter" and kind == "disconnect":
            rig.devices[role].connect()


def test_lost_pump_shutter_makes_safe_state_fail_loudly() -> None:
    rig = build_rig(overrides={"time_scale": 0.0})
    with pytest.raises(DeviceFault, match="could not be confirmed closed"), rig:
        World.of(rig).faults.inject(device="pump_shutter", kind="disconnect")
        with pytest.raises(DeviceDisconnected):
            rig.pump_shutter.is_open()


def test_stuck_pump_shutter() -> None:
    with sim_rig() as rig:
        rig.camera.start()
        rig.pump_shutter.inject_fault("stuck", operation="open")  # type: ignore[attr-defined]
        with pytest.raises(DeviceStateError, match="still reads closed"):
            rig.open_pump()
        assert not World.of(rig).shutter_open("pump_shutter")
        rig.open_pump()
        rig.pump_shutter.inject_fault("stuck", operation="close", times=None)  # type: ignore[attr-defined]
        with pytest.raises(DeviceStateError, match="still reads open"):
            rig.close_pump()
        World.of(rig).faults.clear()  # the blade frees up before the rig shuts down


def test_stalled_stage_never_finishes_its_move() -> None:
    with sim_rig() as rig:
        world = World.of(rig)
        rig.stage.inject_fault("stall")  # type: ignore[attr-defined]
        target = rig.delay_to_mm(500.0)
        with pytest.raises(DeviceTimeout, match=r"not finished after 3\.0 s"):
            rig.stage.move_to(target, timeout_s=3.0)
        assert rig.stage.is_moving()
        stuck = rig.stage.position_mm()
        assert rig.settings.time_zero_mm < stuck < target
        world.clock.sleep(100.0)
        assert rig.stage.position_mm() == stuck and rig.stage.is_moving()
        rig.stage.stop()
        assert not rig.stage.is_moving()
        assert rig.set_delay_fs(500.0) == pytest.approx(500.0)  # next move is fine


def test_stage_reports_stalled_motor() -> None:
    with sim_rig() as rig:
        rig.stage.inject_fault("stall_error")  # type: ignore[attr-defined]
        with pytest.raises(DeviceStateError, match="motor stalled"):
            rig.set_delay_fs(800.0)


@pytest.mark.parametrize("role", ["attenuator", "wavelength_selector"])
def test_stalled_rotation_and_wheel(role: str) -> None:
    with sim_rig() as rig:
        rig.devices[role].inject_fault("stall")  # type: ignore[attr-defined]
        with pytest.raises(DeviceTimeout):
            if role == "attenuator":
                rig.attenuator.set_setting(10.0, timeout_s=2.0)  # type: ignore[union-attr]
            else:
                rig.wavelength_selector.set_wavelength_nm(690.0, timeout_s=2.0)  # type: ignore[union-attr]


def test_dropped_frames_leave_id_gaps_and_tags_stay_right() -> None:
    with sim_rig() as rig:
        cam = rig.camera
        cam.start()
        ref = cam.read(2)
        assert ref.pump_on is not None
        phase = (int(ref.frame_id[0]) + int(not ref.pump_on[0])) % 2
        cam.inject_fault("drop_frames", frames=3)  # type: ignore[attr-defined]
        block = cam.read(20)
        after = cam.read(4)
        cam.stop()
    assert len(block) == 20 and block.dropped == 3 and cam.dropped_frames == 3
    ids = np.concatenate([ref.frame_id, block.frame_id, after.frame_id])
    assert np.all(np.diff(ids) >= 1)
    assert int(np.sum(np.diff(ids) - 1)) == 3  # exactly the lost frames are missing
    assert block.pump_on is not None
    # tags follow the chopper (frame clock), not the position in the block
    assert np.array_equal(block.pump_on, (block.frame_id + phase) % 2 == 0)
    assert after.dropped == 0


def test_late_frames_jump_in_time_and_time_out_when_too_late() -> None:
    with sim_rig() as rig:
        cam = rig.camera
        cam.start()
        cam.inject_fault("late_frames", delay_s=0.8)  # type: ignore[attr-defined]
        block = cam.read(10, timeout_s=5.0)
        steps = np.diff(block.timestamp_s)
        assert steps.max() == pytest.approx(0.005 + 0.8)
        assert np.sum(steps > 0.1) <= 1
        # a frame exactly as late as the timeout still arrives
        cam.inject_fault("late_frames", delay_s=5.0)  # type: ignore[attr-defined]
        assert len(cam.read(10, timeout_s=5.0)) == 10
        cam.inject_fault("late_frames", delay_s=10.0)  # type: ignore[attr-defined]
        clock, next_id, dropped = cam.world.clock, cam._next_id, cam.dropped_frames  # type: ignore[attr-defined]
        before = clock.now()
        with pytest.raises(DeviceTimeout, match=r"late by 10\.0 s") as late:
            cam.read(10, timeout_s=5.0)
        # the reader waited out its timeout; the frames before the late one never arrive,
        # and the next read begins with the late frame itself
        assert clock.now() == pytest.approx(before + 5.0)
        late_id = int(str(late.value).split("frame ")[1].split()[0])
        assert cam.dropped_frames == dropped + (late_id - next_id)
        assert int(cam.read(4).frame_id[0]) == late_id
        cam.stop()


def test_stalled_stream_times_out_until_restarted() -> None:
    with sim_rig() as rig:
        cam = rig.camera
        cam.start()
        cam.inject_fault("stream_stall")  # type: ignore[attr-defined]
        clock = cam.world.clock  # type: ignore[attr-defined]
        for _ in range(2):
            before = clock.now()
            with pytest.raises(DeviceTimeout, match="stream stalled"):
                cam.read(4, timeout_s=1.5)
            assert clock.now() == pytest.approx(before + 1.5)  # each read waits its timeout
        cam.stop()
        cam.start()
        assert len(cam.read(4)) == 4
        cam.stop()


def test_power_meter_out_of_range_fault() -> None:
    with sim_rig() as rig:
        assert rig.power_meter is not None
        rig.power_meter.inject_fault("out_of_range")  # type: ignore[attr-defined]
        with pytest.raises(DeviceStateError, match="over range"):
            rig.power_meter.read_power_w()
        assert rig.power_meter.read_power_w() > 0


def test_fail_on_the_nth_call_only() -> None:
    with sim_rig() as rig:
        rig.stage.inject_fault("timeout", operation="position", on_call=3)  # type: ignore[attr-defined]
        rig.stage.position_mm()
        rig.stage.position_mm()
        with pytest.raises(DeviceTimeout):
            rig.stage.position_mm()
        rig.stage.position_mm()


def test_a_fault_on_any_operation_counts_every_operation_of_its_device() -> None:
    """'*' is the sum of a device's calls: a fault injected on any operation with on_call=3
    fires on the third call after injection, whichever operations those were, and calls()
    reports each operation and the total."""
    with sim_rig() as rig:
        faults = World.of(rig).faults
        before = faults.calls("stage")
        rig.stage.position_mm()  # type: ignore[attr-defined]
        assert faults.calls("stage") == before + 1
        rig.stage.inject_fault("timeout", on_call=3)  # type: ignore[attr-defined]
        moves = faults.calls("stage", "move")
        rig.stage.position_mm()  # type: ignore[attr-defined]
        rig.stage.start_move(1.0)  # type: ignore[attr-defined]
        with pytest.raises(DeviceTimeout):
            rig.stage.wait_until_stopped(60.0)  # type: ignore[attr-defined]
        rig.stage.position_mm()  # type: ignore[attr-defined]
        assert faults.calls("stage", "move") == moves + 1
        assert faults.calls("stage") == before + 5
        assert faults.calls("pump_shutter", "open") == 0


def test_probabilistic_faults_are_reproducible() -> None:
    def pattern(seed: int) -> list[bool]:
        with sim_rig(seed=seed) as rig:
            rig.stage.inject_fault("garbage", probability=0.3, times=None)  # type: ignore[attr-defined]
            failed = []
            for _ in range(200):
                try:
                    rig.stage.position_mm()
                    failed.append(False)
                except DeviceProtocolError:
                    failed.append(True)
            return failed

    first = pattern(5)
    assert first == pattern(5)
    assert first != pattern(6)
    assert 0.2 < np.mean(first) < 0.4


def test_faults_from_the_rig_file(tmp_path: Path) -> None:
    rig_file = write_variant(
        tmp_path,
        "[devices.stage]\n",
        '[[simulation.faults]]\ndevice = "camera"\nkind = "drop_frames"\n'
        "frames = 2\non_call = 2\n\n[devices.stage]\n",
    )
    with build_rig(rig_file) as rig:
        rig.camera.start()
        assert rig.camera.read(8).dropped == 0
        assert rig.camera.read(8).dropped == 2
        rig.camera.stop()


def test_faults_from_overrides_and_connect_fault() -> None:
    spec = {"device": "power_meter", "kind": "timeout", "operation": "connect"}
    rig = build_rig(overrides={"faults": [spec]})
    with pytest.raises(DeviceTimeout, match="'connect'"), rig:
        pass
    assert not rig.pump_shutter.connected  # everything was shut down again


def test_fault_spec_rejects_mismatched_kind() -> None:
    with pytest.raises(ValueError, match="only on"):
        FaultSpec(device="attenuator", kind="stream_stall")
    with pytest.raises(ValueError, match="not both"):
        FaultSpec(device="stage", kind="timeout", on_call=2, probability=0.5)
