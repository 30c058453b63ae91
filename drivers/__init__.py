"""Real hardware drivers, one module per instrument family, behind tamrig's interfaces.

Rig-file kinds (see ``drivers.kinds``):

* ``newport.smc100`` — SMC100CC/PP delay stage (ASCII, TS/TE polling): ``newport_smc100``
* ``thorlabs.apt_stage`` — KBD101 / BBD30x + DDS stage (APT binary): ``thorlabs_apt``
* ``thorlabs.sc10`` — SC10 shutter controller (echo + prompt): ``thorlabs_sc10``
* ``thorlabs.pm100`` — PM100D / PM100USB power meter (VISA SCPI): ``thorlabs_pm100``
* ``thorlabs.ell14_hwp`` — half-wave plate on an Elliptec ELL14: ``thorlabs_ell14``
* ``thorlabs.fw102c_filters`` / ``thorlabs.fw102c_nd`` — FW102C wheels: ``thorlabs_fw102c``
* ``genicam.camera`` — any GenICam camera through harvesters: ``genicam_camera``

Shared pieces: ``transport`` (strict serial adapter: reads raise on timeout; ports may be
pyserial URLs), ``common`` (vendor errors → DeviceFault, atomic exchanges, polling with a
deadline). Each family has protocol emulators in ``simulators.emulators``;
``config/rigs/emulated.toml`` is a whole rig of these drivers against them.
"""
