"""Thorlabs KBD101 + DDS stage emulator speaking the APT binary protocol.

Models: HW_GET_INFO, channel enable, homing (→ MOVE_HOMED), absolute moves at constant
speed (→ MOVE_COMPLETED with a status block), stop (→ MOVE_STOPPED), status requests, and
the update stream (HW_START_UPDATEMSGS) which runs only while the host acknowledges it
(MOT_ACK_DCSTATUSUPDATE) at least once a second. Errors come back as HW_RICHRESPONSE.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

from simulators.emulators.base import Emulator, MotionProfile

# Written from the APT protocol document independently of the driver's codec, so that a
# layout mistake on either side shows up as a failing test rather than cancelling out.
HOST, KCUBE = 0x01, 0x50
HW_REQ_INFO, HW_GET_INFO = 0x0005, 0x0006
HW_START_UPDATEMSGS, HW_STOP_UPDATEMSGS = 0x0011, 0x0012
HW_RICHRESPONSE = 0x0081
MOD_SET_CHANENABLESTATE = 0x0210
MOT_MOVE_HOME, MOT_MOVE_HOMED = 0x0443, 0x0444
MOT_MOVE_ABSOLUTE, MOT_MOVE_COMPLETED = 0x0453, 0x0464
MOT_MOVE_STOP, MOT_MOVE_STOPPED = 0x0465, 0x0466
MOT_REQ_DCSTATUSUPDATE, MOT_GET_DCSTATUSUPDATE = 0x0490, 0x0491
MOT_ACK_DCSTATUSUPDATE = 0x0492
MOVING_FWD, MOVING_REV, HOMING, HOMED = 0x10, 0x20, 0x200, 0x400
SETTLED, ENABLED = 0x2000, 0x80000000


class _Msg:
    """A decoded host message: id, the two parameter bytes, destination and data."""

    def __init__(self, msg_id: int, p1: int, p2: int, dest: int, data: bytes | None) -> None:
        self.msg_id, self.param1, self.param2, self.dest, self.data = msg_id, p1, p2, dest, data

    def raw(self) -> bytes:
        if self.data is None:
            return struct.pack("<HBBBB", self.msg_id, self.param1, self.param2, self.dest, HOST)
        head = struct.pack("<HHBB", self.msg_id, len(self.data), self.dest | 0x80, HOST)
        return head + self.data


class APTStageEmulator(Emulator):
    def __init__(
        self,
        address: int = KCUBE,
        *,
        counts_per_mm: float = 20000.0,
        travel_mm: float = 100.0,
        speed_mm_s: float = 2000.0,
        home_s: float = 0.01,
        update_period_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.address = address
        self.counts_per_mm = counts_per_mm
        self.travel = round(travel_mm * counts_per_mm)
        self.speed = speed_mm_s * counts_per_mm
        self.home_s = home_s
        self.update_period = update_period_s
        self.enabled = False
        self.homed = False
        self.motion = MotionProfile(0.0, 0.0, 1.0, clock())
        self.pending: int | None = None  # completion message to send when motion ends
        self.homing = False
        self.updates = False
        self.last_ack = float("-inf")
        self.next_update = 0.0
        self._inbuf = bytearray()

    # -- state -----------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return round(self.motion.position(self.clock()))

    def status_bits(self) -> int:
        bits = 0
        now = self.clock()
        if self.pending is not None and not self.motion.done(now):
            if self.homing:
                bits |= HOMING
            elif self.motion.target >= self.motion.start:
                bits |= MOVING_FWD
            else:
                bits |= MOVING_REV
        else:
            bits |= SETTLED
        if self.homed:
            bits |= HOMED
        if self.enabled:
            bits |= ENABLED
        return bits

    def _status_block(self) -> bytes:
        # chan <H>, position <l>, velocity <h>, reserved <H>, status bits <L>
        return struct.pack("<HlhHL", 1, self.position, 0, 0, self.status_bits())

    def _send_short(self, msg_id: int, p1: int = 0, p2: int = 0) -> None:
        self.reply(struct.pack("<HBBBB", msg_id, p1, p2, HOST, self.address))

    def _send_long(self, msg_id: int, data: bytes) -> None:
        self.reply(struct.pack("<HHBB", msg_id, len(data), HOST | 0x80, self.address) + data)

    def _error(self, about: int, code: int, text: str) -> None:
        data = struct.pack("<HH", about, code) + text.encode()[:64].ljust(64, b"\0")
        self._send_long(HW_RICHRESPONSE, data)

    def tick(self) -> None:
        now = self.clock()
        if self.pending is not None and self.motion.done(now):
            if self.pending == MOT_MOVE_HOMED:
                self.homed = True
                self.homing = False
                self._send_short(MOT_MOVE_HOMED, 1, 0)
            else:
                self._send_long(self.pending, self._status_block())
            self.pending = None
        if self.updates and now - self.last_ack <= 1.0 and now >= self.next_update:
            self._send_long(MOT_GET_DCSTATUSUPDATE, self._status_block())
            self.next_update = now + self.update_period

    # -- protocol --------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        self._inbuf += data
        while len(self._inbuf) >= 6:
            msg_id, n = struct.unpack_from("<HH", self._inbuf, 0)
            dest = self._inbuf[4]
            is_long = bool(dest & 0x80)
            size = 6 + (n if is_long else 0)
            if len(self._inbuf) < size:
                return
            frame = bytes(self._inbuf[:size])
            del self._inbuf[:size]
            self.log.append(frame)
            message = _Msg(
                msg_id,
                frame[2],
                frame[3],
                dest & 0x7F,
                frame[6:] if is_long else None,
            )
            if message.dest != self.address:
                continue
            self.tick()
            self._handle(message)

    def _handle(self, m: _Msg) -> None:
        now = self.clock()
        if m.msg_id == HW_REQ_INFO:
            info = struct.pack(
                "<L8sH4s48s12sHHH",
                83000001,
                b"KBD101\0\0",
                16,
                bytes([0, 1, 3, 0]),
                b"Brushless DC K-Cube (emulated)".ljust(48, b"\0"),
                bytes(12),
                1,
                0,
                1,
            )
            self._send_long(HW_GET_INFO, info)
        elif m.msg_id == MOD_SET_CHANENABLESTATE:
            self.enabled = m.param2 == 0x01
        elif m.msg_id == HW_START_UPDATEMSGS:
            self.updates, self.last_ack, self.next_update = True, now, now
        elif m.msg_id == HW_STOP_UPDATEMSGS:
            self.updates = False
        elif m.msg_id == MOT_ACK_DCSTATUSUPDATE:
            self.last_ack = now
        elif m.msg_id == MOT_REQ_DCSTATUSUPDATE:
            self._send_long(MOT_GET_DCSTATUSUPDATE, self._status_block())
        elif m.msg_id == MOT_MOVE_HOME:
            if not self.enabled:
                self._error(m.msg_id, 0x10, "channel disabled")
                return
            self.homing = True
            here = float(self.position)
            self.motion = MotionProfile(here, 0.0, max(abs(here) / self.home_s, 1.0), now)
            self.pending = MOT_MOVE_HOMED
        elif m.msg_id == MOT_MOVE_ABSOLUTE and m.data is not None:
            _, target = struct.unpack_from("<Hl", m.data, 0)
            if not self.enabled:
                self._error(m.msg_id, 0x10, "channel disabled")
            elif not self.homed:
                self._error(m.msg_id, 0x11, "stage not homed")
            elif not 0 <= target <= self.travel:
                self._error(m.msg_id, 0x12, "position outside travel")
            else:
                here = self.motion.position(now)
                self.motion = MotionProfile(here, float(target), self.speed, now)
                self.pending = MOT_MOVE_COMPLETED
                self.tick()
        elif m.msg_id == MOT_MOVE_STOP:
            here = self.motion.position(now)
            self.motion = MotionProfile(here, here, 1.0, now)
            self.homing = False
            self.pending = None
            self._send_long(MOT_MOVE_STOPPED, self._status_block())
