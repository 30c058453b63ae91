"""Thorlabs APT binary protocol: message layout, packing and a byte-stream unpacker.

Short message (6 bytes): ``<H id><B p1><B p2><B dest><B source>``. Long message: ``<H id>
<H data_len><B dest|0x80><B source>`` followed by ``data_len`` bytes. Little-endian. Host
address 0x01; a K-Cube (KBD101) is 0x50; a benchtop BBD30x rack 0x11 with bays 0x21...
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

HOST = 0x01
KCUBE = 0x50
RACK = 0x11
BAY1 = 0x21

HW_REQ_INFO = 0x0005
HW_GET_INFO = 0x0006
HW_START_UPDATEMSGS = 0x0011
HW_STOP_UPDATEMSGS = 0x0012
HW_RESPONSE = 0x0080
HW_RICHRESPONSE = 0x0081
MOD_SET_CHANENABLESTATE = 0x0210
MOT_MOVE_HOME = 0x0443
MOT_MOVE_HOMED = 0x0444
MOT_MOVE_ABSOLUTE = 0x0453
MOT_MOVE_COMPLETED = 0x0464
MOT_MOVE_STOP = 0x0465
MOT_MOVE_STOPPED = 0x0466
MOT_REQ_DCSTATUSUPDATE = 0x0490
MOT_GET_DCSTATUSUPDATE = 0x0491
MOT_ACK_DCSTATUSUPDATE = 0x0492

STATUS_LIMIT_FWD = 0x00000001
STATUS_LIMIT_REV = 0x00000002
STATUS_MOVING_FWD = 0x00000010
STATUS_MOVING_REV = 0x00000020
STATUS_HOMING = 0x00000200
STATUS_HOMED = 0x00000400
STATUS_SETTLED = 0x00002000
STATUS_MOTION_ERROR = 0x00004000
STATUS_INSTRUMENT_ERROR = 0x00008000
STATUS_ENABLED = 0x80000000

DC_STATUS = struct.Struct("<HlhHL")  # chan, position, velocity, reserved, status bits
INFO = struct.Struct("<L8sH4s48s12sHHH")  # serial, model, type, firmware, notes, -, hw, mod, nch


@dataclass(frozen=True)
class Message:
    msg_id: int
    dest: int
    source: int
    param1: int = 0
    param2: int = 0
    data: bytes | None = None

    @property
    def is_long(self) -> bool:
        return self.data is not None

    def pack(self) -> bytes:
        if self.data is None:
            return struct.pack(
                "<HBBBB", self.msg_id, self.param1, self.param2, self.dest, self.source
            )
        header = struct.pack("<HHBB", self.msg_id, len(self.data), self.dest | 0x80, self.source)
        return header + self.data


def short(msg_id: int, dest: int, p1: int = 0, p2: int = 0, source: int = HOST) -> Message:
    return Message(msg_id, dest, source, p1, p2)


def long(msg_id: int, dest: int, data: bytes, source: int = HOST) -> Message:
    return Message(msg_id, dest, source, data=data)


def header_length(header: bytes) -> int:
    """Bytes of data following a 6-byte header (0 for a short message)."""
    return struct.unpack_from("<H", header, 2)[0] if header[4] & 0x80 else 0


def parse(header: bytes, data: bytes = b"") -> Message:
    msg_id = struct.unpack_from("<H", header, 0)[0]
    dest, source = header[4], header[5]
    if dest & 0x80:
        return Message(msg_id, dest & 0x7F, source, data=bytes(data))
    return Message(msg_id, dest, source, header[2], header[3])


class Unpacker:
    """Feed bytes in any chunking; iterate complete messages out."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def __iter__(self) -> Iterator[Message]:
        while len(self._buf) >= 6:
            n = header_length(bytes(self._buf[:6]))
            if len(self._buf) < 6 + n:
                return
            header, data = bytes(self._buf[:6]), bytes(self._buf[6 : 6 + n])
            del self._buf[: 6 + n]
            yield parse(header, data)


@dataclass(frozen=True)
class DcStatus:
    channel: int
    position: int
    velocity: int
    bits: int

    @classmethod
    def unpack(cls, data: bytes) -> DcStatus:
        chan, pos, vel, _, bits = DC_STATUS.unpack_from(data, 0)
        return cls(chan, pos, vel, bits)

    def pack(self) -> bytes:
        return DC_STATUS.pack(self.channel, self.position, self.velocity, 0, self.bits)

    @property
    def moving(self) -> bool:
        return bool(self.bits & (STATUS_MOVING_FWD | STATUS_MOVING_REV | STATUS_HOMING))


def describe_status(bits: int) -> list[str]:
    names = {
        STATUS_LIMIT_FWD: "forward limit",
        STATUS_LIMIT_REV: "reverse limit",
        STATUS_MOVING_FWD: "moving forward",
        STATUS_MOVING_REV: "moving reverse",
        STATUS_HOMING: "homing",
        STATUS_HOMED: "homed",
        STATUS_SETTLED: "settled",
        STATUS_MOTION_ERROR: "motion error",
        STATUS_INSTRUMENT_ERROR: "instrument error",
        STATUS_ENABLED: "enabled",
    }
    return [text for bit, text in names.items() if bits & bit]
