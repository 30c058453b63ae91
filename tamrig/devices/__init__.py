"""Device interfaces. Real drivers live in ``drivers``, simulators in ``simulators``."""

from tamrig.devices.attenuator import Attenuator
from tamrig.devices.base import Device, DeviceSettings
from tamrig.devices.camera import Camera, CameraConfig, CameraNoise, FrameBlock, Roi
from tamrig.devices.power_meter import PowerMeter
from tamrig.devices.shutter import Shutter
from tamrig.devices.stage import DelayStage
from tamrig.devices.wavelength import WavelengthSelector

#: Rig roles and the interface each must implement.
ROLES: dict[str, type[Device]] = {
    "stage": DelayStage,
    "pump_shutter": Shutter,
    "probe_shutter": Shutter,
    "camera": Camera,
    "power_meter": PowerMeter,
    "attenuator": Attenuator,
    "wavelength_selector": WavelengthSelector,
}

__all__ = [
    "ROLES",
    "Attenuator",
    "Camera",
    "CameraConfig",
    "CameraNoise",
    "DelayStage",
    "Device",
    "DeviceSettings",
    "FrameBlock",
    "PowerMeter",
    "Roi",
    "Shutter",
    "WavelengthSelector",
]
