"""What every simulated device shares: the world, a random stream and fault injection."""

from __future__ import annotations

from typing import Any, Self

from simulators.world import World
from tamrig.devices.base import Device, DeviceSettings


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
        world.register(self.name, self)

    def _connect(self) -> None:
        self.maybe_fault("connect")

    def _disconnect(self) -> None:
        pass

    def maybe_fault(self, operation: str) -> None:
        """Hook for fault injection (timeouts, garbage, disconnects) before ``operation``."""
