"""In-process simulated devices sharing one :class:`~simulators.world.World`."""
