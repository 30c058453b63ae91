"""Thorlabs KBD101 (K-Cube) / BBD30x (benchtop) brushless controllers with DDS delay stages,
APT binary protocol over FTDI USB-serial (115200 8N1, RTS/CTS).

Motion done is event-based: the controller sends MOT_MOVE_COMPLETED (or MOVE_HOMED /
MOVE_STOPPED) unsolicited. While waiting, the driver also requests status, which doubles as
the keep-alive the controller needs when it streams status updates (MOT_ACK_DCSTATUSUPDATE
at least once a second). DDS stages: 20 000 encoder counts per mm.
"""

from __future__ import annotations

import struct
import time
from typing import Any

from pydantic import Field, model_validator
from pymeasure.instruments import Instrument

from drivers import apt_protocol as apt
from drivers.common import (
    InstrumentDevice,
    InstrumentLock,
    ReplyError,
    VendorError,
    device_errors,
    exchange,
)
from drivers.transport import SerialSettings, serial_adapter
from tamrig.devices import DelayStage
from tamrig.errors import DeviceStateError, DeviceTimeout


class APTController(InstrumentLock, Instrument):
    """Message-level access to one APT motor channel."""

    def __init__(
        self,
        adapter: Any,
        name: str = "Thorlabs APT controller",
        dest: int = apt.KCUBE,
        channel: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(adapter, name, includeSCPI=False, **kwargs)
        self.dest = dest
        self.channel = channel
        self.last_status: apt.DcStatus | None = None
        self.completed = False  # a move/home/stop completion arrived since the last move
        self.last_keepalive = float("-inf")

    # -- framing ---------------------------------------------------------------------------
    @exchange
    def send(self, message: apt.Message) -> None:
        self.write_bytes(message.pack())

    @exchange
    def receive(self) -> apt.Message:
        """One message (raises TimeoutError when none arrives within the port timeout)."""
        header = self.read_bytes(6)
        n = apt.header_length(header)
        data = self.read_bytes(n) if n else b""
        message = apt.parse(header, data)
        self._observe(message)
        return message

    def _observe(self, message: apt.Message) -> None:
        """Track completion and status from any message; raise the controller's errors."""
        if message.msg_id == apt.HW_RICHRESPONSE and message.data is not None:
            ident, code = struct.unpack_from("<HH", message.data, 0)
            notes = message.data[4:68].split(b"\0", 1)[0].decode("ascii", "replace").strip()
            raise VendorError(str(code), notes or "controller error", f"message 0x{ident:04X}")
        if message.msg_id == apt.HW_RESPONSE:
            raise VendorError("HW_RESPONSE", "controller reported an error", "")
        if message.data is not None and message.msg_id in (
            apt.MOT_GET_DCSTATUSUPDATE,
            apt.MOT_MOVE_COMPLETED,
            apt.MOT_MOVE_STOPPED,
        ):
            self.last_status = apt.DcStatus.unpack(message.data)
        if message.msg_id in (apt.MOT_MOVE_COMPLETED, apt.MOT_MOVE_STOPPED, apt.MOT_MOVE_HOMED):
            self.completed = True

    @exchange
    def receive_until(self, msg_ids: set[int]) -> apt.Message:
        while True:
            message = self.receive()
            if message.msg_id in msg_ids:
                return message

    # -- commands --------------------------------------------------------------------------
    @exchange
    def info(self) -> dict[str, Any]:
        self.send(apt.short(apt.HW_REQ_INFO, self.dest))
        reply = self.receive_until({apt.HW_GET_INFO})
        if reply.data is None or len(reply.data) < apt.INFO.size:
            raise ReplyError(f"HW_GET_INFO with {len(reply.data or b'')} bytes (expected 84)")
        serial, model, _, fw, _, _, hw, _, nch = apt.INFO.unpack_from(reply.data, 0)
        return {
            "serial": serial,
            "model": model.split(b"\0", 1)[0].decode("ascii", "replace"),
            "firmware": f"{fw[2]}.{fw[1]}.{fw[0]}",
            "hardware": hw,
            "channels": nch,
        }

    def enable(self, on: bool = True) -> None:
        self.send(
            apt.short(apt.MOD_SET_CHANENABLESTATE, self.dest, self.channel, 0x01 if on else 0x02)
        )

    def start_updates(self) -> None:
        self.send(apt.short(apt.HW_START_UPDATEMSGS, self.dest))

    def stop_updates(self) -> None:
        self.send(apt.short(apt.HW_STOP_UPDATEMSGS, self.dest))

    def keepalive(self) -> None:
        self.send(apt.short(apt.MOT_ACK_DCSTATUSUPDATE, self.dest))
        self.last_keepalive = time.monotonic()

    @exchange
    def status(self) -> apt.DcStatus:
        self.send(apt.short(apt.MOT_REQ_DCSTATUSUPDATE, self.dest, self.channel))
        self.receive_until({apt.MOT_GET_DCSTATUSUPDATE})
        assert self.last_status is not None
        return self.last_status

    def home(self) -> None:
        self.completed = False
        self.send(apt.short(apt.MOT_MOVE_HOME, self.dest, self.channel))

    def move_absolute(self, counts: int) -> None:
        self.completed = False
        data = struct.pack("<Hl", self.channel, counts)
        self.send(apt.long(apt.MOT_MOVE_ABSOLUTE, self.dest, data))

    def stop(self) -> None:
        self.send(apt.short(apt.MOT_MOVE_STOP, self.dest, self.channel, 0x02))

    def wait_completed(self, timeout_s: float, keepalive_s: float) -> apt.DcStatus:
        """Wait for the completion message; status requests fill silences and keep the
        controller's update stream alive. Raises TimeoutError at the deadline."""
        deadline = time.monotonic() + timeout_s
        while not self.completed:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no move-completed message within {timeout_s} s")
            if time.monotonic() - self.last_keepalive >= keepalive_s:
                self.keepalive()
            try:
                self.receive()
            except TimeoutError:
                self.status()  # silence: ask, which also proves the link is alive
        status = self.last_status
        if status is None:
            status = self.status()
        return status


class APTStageSettings(SerialSettings):
    baudrate: int = 115200
    rtscts: bool = True
    destination: int = Field(apt.KCUBE, description="0x50 K-Cube; 0x21.. BBD30x bay")
    channel: int = Field(1, ge=1, le=3)
    counts_per_mm: float = Field(20000.0, gt=0, description="DDS stages: 20 000")
    travel_mm: tuple[float, float] = Field((0.0, 100.0), description="usable travel in mm")
    timeout_s: float = Field(0.5, gt=0, description="silence before a status request")
    home_on_connect: bool = True
    home_timeout_s: float = Field(60.0, gt=0)
    status_updates: bool = Field(False, description="have the controller stream status")
    keepalive_s: float = Field(0.5, ge=0, description="MOT_ACK_DCSTATUSUPDATE period")
    tolerance_mm: float = Field(0.001, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> APTStageSettings:
        if self.travel_mm[0] >= self.travel_mm[1]:
            raise ValueError("travel_mm as [low, high] with low < high")
        return self


class APTStage(InstrumentDevice[APTController], DelayStage):
    """DDS delay stage on a KBD101 / BBD30x."""

    Settings = APTStageSettings
    settings: APTStageSettings

    def __init__(
        self, name: str, settings: APTStageSettings, instrument: APTController | None = None
    ):
        super().__init__(name, settings, instrument)
        self._target: float | None = None
        self._info: dict[str, Any] = {}

    def _open_instrument(self) -> APTController:
        s = self.settings
        adapter = serial_adapter(s, rtscts=s.rtscts)
        return APTController(adapter, dest=s.destination, channel=s.channel)

    def _connect(self) -> None:
        s = self.settings
        with device_errors(self):
            self._info = self._open().info()
            self.inst.enable(True)
            if s.status_updates:
                self.inst.start_updates()
            status = self.inst.status()
            if not status.bits & apt.STATUS_HOMED:
                if not s.home_on_connect:
                    raise self.fault("stage is not homed and home_on_connect is false")
                self.inst.home()
                self.inst.wait_completed(s.home_timeout_s, s.keepalive_s)
                self._check(self.inst.status(), "homing")

    def _release(self, inst: APTController) -> None:
        if self.settings.status_updates:
            inst.stop_updates()

    def _identify(self) -> str:
        i = self._info
        return f"Thorlabs {i.get('model')} serial {i.get('serial')}, firmware {i.get('firmware')}"

    def _status(self) -> dict[str, Any]:
        with device_errors(self):
            st = self.inst.status()
        return {
            "position_mm": st.position / self.settings.counts_per_mm,
            "state": apt.describe_status(st.bits),
            "limits_mm": list(self.limits_mm),
        }

    def _check(self, status: apt.DcStatus, what: str) -> None:
        if status.bits & (apt.STATUS_MOTION_ERROR | apt.STATUS_INSTRUMENT_ERROR):
            raise VendorError(
                f"status 0x{status.bits:08X}", ", ".join(apt.describe_status(status.bits)), what
            )

    @property
    def limits_mm(self) -> tuple[float, float]:
        return self.settings.travel_mm

    def position_mm(self) -> float:
        with device_errors(self):
            return self.inst.status().position / self.settings.counts_per_mm

    def start_move(self, position_mm: float) -> None:
        self.check_in_limits(position_mm)
        with device_errors(self):
            self.inst.move_absolute(round(position_mm * self.settings.counts_per_mm))
        self._target = position_mm

    def is_moving(self) -> bool:
        with device_errors(self):
            status = self.inst.status()
            self._check(status, "status")
        return status.moving and not self.inst.completed

    def wait_until_stopped(self, timeout_s: float) -> None:
        s = self.settings
        with device_errors(self):
            try:
                status = self.inst.wait_completed(timeout_s, s.keepalive_s)
            except TimeoutError as exc:
                self.inst.stop()
                raise self.fault(f"{exc}; stop sent", DeviceTimeout) from None
            self._check(status, "move")
            if self._target is not None:
                reached = status.position / s.counts_per_mm
                if abs(reached - self._target) > s.tolerance_mm:
                    raise self.fault(
                        f"stopped at {reached:.4f} mm, target {self._target:.4f} mm",
                        DeviceStateError,
                    )

    def stop(self) -> None:
        with device_errors(self):
            self.inst.stop()
        self._target = None

    def home(self) -> None:
        with device_errors(self):
            self.inst.home()
            self.inst.wait_completed(self.settings.home_timeout_s, self.settings.keepalive_s)
