"""Simulated devices, the virtual TAM sample, and protocol emulators for driver tests.

The simulated rig (``config/rigs/simulated.toml``) is a whole TAM experiment in software:

- :mod:`simulators.sample` — the virtual film: three-regime MSD(t), amplitude kinetics,
  probe-wavelength bands and the 40 fs instrument response (docs/simulator.md).
- :mod:`simulators.world` — one per rig: simulated clock, seeded random streams, fault
  injector, and the optics linking the devices (stage position → delay, attenuator → pump
  power → ⟨N_abs⟩, shutters and filter wheel → what the camera sees).
- :mod:`simulators.devices` — stage, shutters, camera (raw 12-bit counts with shot and read
  noise, chopper tags, optional on-camera accumulation), power meter, half-wave-plate
  attenuator and filter wheel, each with the interface of :mod:`tamrig.devices`.
- :mod:`simulators.faults` — timeouts, garbage replies, disconnects, stalls, dropped or late
  frames and more, from ``[[simulation.faults]]`` or ``World.of(rig).faults.inject(...)``.

``[simulation]`` keys: ``time_scale`` (0 = instant, 1 = real time), ``seed``,
``pump_power_max_w``, ``time_zero_error_fs``, ``camera_accumulate`` (fast test mode: K
exposures per frame with the statistics of K exposures), ``sample`` and ``faults``.
"""
