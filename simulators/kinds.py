"""Short device-kind names of the simulated devices, as used in rig files."""

KINDS: dict[str, str] = {
    "simulated.stage": "simulators.devices.stage:SimulatedStage",
    "simulated.shutter": "simulators.devices.shutter:SimulatedShutter",
    "simulated.camera": "simulators.devices.camera:SimulatedCamera",
    "simulated.power_meter": "simulators.devices.power_meter:SimulatedPowerMeter",
    "simulated.hwp_attenuator": "simulators.devices.attenuator:SimulatedHwpAttenuator",
    "simulated.filter_wheel": "simulators.devices.wavelength:SimulatedFilterWheel",
}
