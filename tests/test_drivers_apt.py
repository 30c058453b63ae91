"""APT binary protocol (KBD101 / BBD30x): transcripts written byte by byte from the
protocol document's layouts, and the stream unpacker."""

from __future__ import annotations

import struct

import pytest
from pymeasure.test import expected_protocol

from drivers import apt_protocol as apt
from drivers.common import VendorError
from drivers.thorlabs_apt import APTController, APTStage, APTStageSettings
from tamrig.errors import DeviceStateError

H = bytes.fromhex
REQ_INFO = H("050000005001")
ENABLE = H("100201015001")
REQ_STATUS = H("900401005001")
ACK = H("920400005001")
HOME = H("430401005001")
HOMED = H("440401000150")
STOP = H("650401025001")


def status_reply(msg_id: int, counts: int, bits: int) -> bytes:
    """A long message from the K-Cube (0x50) to the host (0x01 | 0x80) with a DC status."""
    block = struct.pack("<HlhHL", 1, counts, 0, 0, bits)
    return struct.pack("<HHBB", msg_id, 14, 0x81, 0x50) + block


def move_absolute(counts: int) -> bytes:
    return struct.pack("<HHBB", 0x0453, 6, 0xD0, 0x01) + struct.pack("<Hl", 1, counts)


def info_reply() -> bytes:
    data = struct.pack(
        "<L8sH4s48s12sHHH",
        28250001,
        b"KBD101\0\0",
        16,
        bytes([4, 0, 3, 0]),
        bytes(48),
        bytes(12),
        2,
        0,
        1,
    )
    return struct.pack("<HHBB", 0x0006, 84, 0x81, 0x50) + data


HOMED_BITS = 0x80000000 | 0x400 | 0x2000  # enabled, homed, settled
MOVING_BITS = 0x80000000 | 0x400 | 0x10


def test_messages_pack_as_documented() -> None:
    assert apt.short(apt.MOD_SET_CHANENABLESTATE, apt.KCUBE, 1, 1).pack() == ENABLE
    assert apt.short(apt.MOT_MOVE_STOP, apt.KCUBE, 1, 2).pack() == STOP
    assert apt.long(apt.MOT_MOVE_ABSOLUTE, apt.KCUBE, struct.pack("<Hl", 1, 850000)).pack() == (
        move_absolute(850000)
    )


def test_unpacker_reassembles_any_chunking() -> None:
    stream = status_reply(0x0491, 1234, HOMED_BITS) + HOMED + status_reply(0x0464, -5, 0)
    unpacker = apt.Unpacker()
    got = []
    for byte in stream:
        unpacker.feed(bytes([byte]))
        got.extend(unpacker)
    assert [m.msg_id for m in got] == [0x0491, 0x0444, 0x0464]
    assert apt.DcStatus.unpack(got[0].data or b"").position == 1234
    assert apt.DcStatus.unpack(got[2].data or b"").position == -5
    assert (got[1].param1, got[1].dest, got[1].source) == (1, 0x01, 0x50)


def test_info_is_decoded() -> None:
    with expected_protocol(APTController, [(REQ_INFO, info_reply())]) as inst:
        info = inst.info()
    assert info == {
        "serial": 28250001,
        "model": "KBD101",
        "firmware": "3.0.4",
        "hardware": 2,
        "channels": 1,
    }


def test_connect_homes_then_move_waits_for_move_completed() -> None:
    pairs = [
        (REQ_INFO, info_reply()),
        (ENABLE, None),
        (REQ_STATUS, status_reply(0x0491, 0, 0x80000000)),  # enabled, not homed
        (HOME, None),
        (ACK, HOMED),  # keep-alive first, then the homed event arrives
        (REQ_STATUS, status_reply(0x0491, 0, HOMED_BITS)),
        (move_absolute(850000), None),  # 42.5 mm × 20 000 counts/mm
        # keep-alive sent during homing is still fresh: the driver just listens
        (
            None,
            status_reply(0x0491, 400000, MOVING_BITS) + status_reply(0x0464, 850000, HOMED_BITS),
        ),
        (REQ_STATUS, status_reply(0x0491, 850000, HOMED_BITS)),
    ]
    with expected_protocol(APTController, pairs) as inst:
        stage = APTStage("stage", APTStageSettings(port="unused", keepalive_s=1e9), inst)
        stage.connect()
        assert stage.move_to(42.5) == pytest.approx(42.5)
        with pytest.raises(Exception, match="outside travel"):
            stage.move_to(150.0)


def test_controller_error_message_surfaces_code_and_text() -> None:
    rich = struct.pack("<HHBB", 0x0081, 68, 0x81, 0x50) + struct.pack("<HH", 0x0453, 0x11)
    rich += b"stage not homed".ljust(64, b"\0")
    pairs = [(move_absolute(20000), None), (ACK, rich)]
    with expected_protocol(APTController, pairs) as inst:
        stage = APTStage("stage", APTStageSettings(port="unused", keepalive_s=1e9), inst)
        stage._inst = inst
        stage.start_move(1.0)
        with pytest.raises(DeviceStateError, match=r"error 17 \(stage not homed\)"):
            stage.wait_until_stopped(5.0)


def test_motion_error_bit_fails_the_move() -> None:
    pairs = [
        (move_absolute(20000), None),
        (ACK, status_reply(0x0464, 1000, HOMED_BITS | 0x4000)),
        (STOP, status_reply(0x0466, 1000, HOMED_BITS)),
    ]
    with expected_protocol(APTController, pairs) as inst:
        inst.move_absolute(20000)
        status = inst.wait_completed(5.0, 1e9)
        assert "motion error" in apt.describe_status(status.bits)
        inst.stop()
        assert inst.receive().msg_id == apt.MOT_MOVE_STOPPED
    with pytest.raises(VendorError):
        stage = APTStage("s", APTStageSettings(port="unused"))
        stage._check(status, "move")


def test_status_stream_is_started_acknowledged_and_stopped() -> None:
    pairs = [
        (H("110000005001"), None),  # HW_START_UPDATEMSGS
        (ACK, status_reply(0x0491, 0, HOMED_BITS)),
        (H("120000005001"), None),  # HW_STOP_UPDATEMSGS
    ]
    with expected_protocol(APTController, pairs) as inst:
        inst.start_updates()
        inst.keepalive()
        assert inst.receive().msg_id == apt.MOT_GET_DCSTATUSUPDATE
        assert inst.last_status is not None and inst.last_status.bits == HOMED_BITS
        inst.stop_updates()
