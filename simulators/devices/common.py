"""What every simulated device shares: the world, a random stream and fault injection."""

from __future__ import annotations

from typing import Any, Self

from simulators.faults import GENERIC_KINDS, FaultSpec
from simulators.world import World
from tamrig.devices.base import Device, DeviceSettings
from tamrig.errors import DeviceDisconnected, DeviceProtocolError, DeviceTimeout

#: Replies a confused controller might send instead of an answer (picked by the device RNG).
GARBAGE_REPLIES = (b"\x8f\x00?ERR\xff", b"1#\x15@@", b"\xfe\xfe\xfe", b"OK?;;-3.1e", b"\x00\x00")


class SimulatedDevice(Device):
    """Mixin body for simulated devices: built from the rig context, registered in the world."""

    world: World

    @classmethod
    def from_context(cls, role: str, settings: DeviceSettings, context: Any) -> Self:
        device = cls(role, settings)
        device.attach(World.from_context(context))
        return device

    def attach(self, world: World) -> None:
        self.world = world
        self.rng = world.rng(self.name)
        self._link_lost = False
        self._check_fault = world.faults.check_at  # looked up once: every call asks it
        self._clock_now = world.clock.now
        world.register(self.name, self)

    def _connect(self) -> None:
        self._link_lost = False
        self.maybe_fault("connect")

    def _disconnect(self) -> None:
        pass

    def inject_fault(self, kind: str, **fields: Any) -> FaultSpec:
        """Arm a fault on this device (see :mod:`simulators.faults`)."""
        return self.world.faults.inject(device=self.name, kind=kind, **fields)

    def check_link(self) -> None:
        """Raise DeviceDisconnected while the (simulated) connection is lost."""
        if self._link_lost:
            raise self.fault("connection lost (reconnect the device)", DeviceDisconnected)

    def maybe_fault(self, operation: str) -> FaultSpec | None:
        """Count a call of ``operation`` and act out any fault that fires on it.

        Generic faults (timeout, garbage, disconnect) raise here; a device-specific one
        (stall, dropped frames, ...) is returned for the device to act out.
        """
        if self._link_lost:
            self.check_link()
        spec = self._check_fault(self.name, operation, self._clock_now)
        if spec is None or spec.kind not in GENERIC_KINDS:
            return spec
        if spec.kind == "timeout":
            self.world.clock.sleep(spec.delay_s)
            raise self.fault(f"no reply to {operation!r} within {spec.delay_s} s", DeviceTimeout)
        if spec.kind == "garbage":
            reply = GARBAGE_REPLIES[int(self.rng.integers(len(GARBAGE_REPLIES)))]
            raise self.fault(
                f"unparseable reply {reply!r} to {operation!r} (expected a status/value line)",
                DeviceProtocolError,
            )
        self._link_lost = True
        raise self.fault(f"connection lost during {operation!r}", DeviceDisconnected)
