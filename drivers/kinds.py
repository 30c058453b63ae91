"""Short device-kind names of the real drivers, as used in rig files."""

KINDS: dict[str, str] = {
    "newport.smc100": "drivers.newport_smc100:SMC100Stage",
    "thorlabs.apt_stage": "drivers.thorlabs_apt:APTStage",
    "thorlabs.sc10": "drivers.thorlabs_sc10:SC10Shutter",
    "thorlabs.pm100": "drivers.thorlabs_pm100:PM100PowerMeter",
    "thorlabs.ell14_hwp": "drivers.thorlabs_ell14:ELL14HwpAttenuator",
    "thorlabs.fw102c_filters": "drivers.thorlabs_fw102c:FW102CFilterSelector",
    "thorlabs.fw102c_nd": "drivers.thorlabs_fw102c:FW102CNdAttenuator",
    "genicam.camera": "drivers.genicam_camera:GenICamCamera",
}
