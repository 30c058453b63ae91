"""Real drivers end to end against the stateful protocol emulators, over the in-process
``emu://`` pyserial handler and over ``socket://`` on 127.0.0.1; the PM100D on pyvisa-sim."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from drivers.newport_smc100 import SMC100Settings, SMC100Stage
from drivers.thorlabs_apt import APTStage, APTStageSettings
from drivers.thorlabs_ell14 import ELL14HwpAttenuator, ELL14Settings
from drivers.thorlabs_fw102c import (
    FilterSelectorSettings,
    FW102CFilterSelector,
    FW102CNdAttenuator,
    NdAttenuatorSettings,
)
from drivers.thorlabs_pm100 import PM100PowerMeter, PM100Settings
from drivers.thorlabs_sc10 import SC10Settings, SC10Shutter
from drivers.transport import make_adapter
from simulators.emulators import register, unregister
from simulators.emulators.apt import APTStageEmulator
from simulators.emulators.ell14 import ELL14Emulator
from simulators.emulators.fw102c import FW102CEmulator
from simulators.emulators.sc10 import SC10Emulator
from simulators.emulators.server import EmulatorServer
from simulators.emulators.smc100 import SMC100Emulator
from tamrig.errors import DeviceStateError, DeviceTimeout

REPO = Path(__file__).resolve().parent.parent
PM100_YAML = REPO / "simulators" / "emulators" / "pm100d.yaml"


@pytest.fixture
def registered() -> Iterator[dict[str, object]]:
    """Emulators registered by name so tests can look at their state (emu://@name)."""
    emus: dict[str, object] = {}

    def add(name: str, emulator: object) -> str:
        register(name, emulator)  # type: ignore[arg-type]
        emus[name] = emulator
        return f"emu://@{name}"

    yield {"add": add, "emus": emus}
    for name in emus:
        unregister(name)


def test_smc100_unreferenced_home_move_and_vendor_errors(registered: dict) -> None:
    emu = SMC100Emulator(limits_mm=(0.0, 25.0))
    url = registered["add"]("smc", emu)
    stage = SMC100Stage("stage", SMC100Settings(port=url, poll_interval_s=0.001))
    assert emu.state == 0x0A
    stage.connect()
    assert emu.state == 0x32 and stage.limits_mm == (0.0, 25.0)  # homed; limits from SL/SR
    assert stage.move_to(12.5) == pytest.approx(12.5)
    assert stage.status()["state"] == "READY"
    assert stage._inst is not None
    with pytest.raises(Exception) as err:
        stage._inst.axis.target_position = 40.0  # bypass the driver's own limit check
    assert "error G (displacement out of limits)" in str(err.value)
    emu.state = 0x3C  # DISABLE behind the driver's back
    with pytest.raises(DeviceStateError, match="DISABLE"):
        stage.start_move(1.0)
    stage.disconnect()


class StepClock:
    """Simulated time for an emulator: every look at the clock moves it on by ``step_s``, so
    a driver polling the controller sees homing and moves progress without real waiting."""

    def __init__(self, step_s: float) -> None:
        self.now, self.step_s = 0.0, step_s

    def __call__(self) -> float:
        self.now += self.step_s
        return self.now


@pytest.mark.parametrize("left_by_killed_session", [b"1OR\r\n", b"1PA200\r\n"])
def test_smc100_connect_waits_out_homing_or_moving(
    registered: dict, left_by_killed_session: bytes
) -> None:
    emu = SMC100Emulator(velocity_mm_s=20.0, home_s=5.0, clock=StepClock(0.05))
    if left_by_killed_session.startswith(b"1PA"):
        emu.write(b"1OR\r\n")
        emu.clock.now += 10.0  # homed long ago
        emu.read_available()
    emu.write(left_by_killed_session)  # the killed session's last command; it is still busy
    busy = emu.state
    assert busy in (0x1E, 0x28)
    url = registered["add"]("smc", emu)
    stage = SMC100Stage("stage", SMC100Settings(port=url, poll_interval_s=0))
    stage.connect()
    assert emu.state in (0x32, 0x33) and emu.error == "@"
    assert emu.log.count(b"1OR") == 1  # never a second home search on the busy controller
    stage.home()  # referenced now: reads the state, sends no OR
    assert emu.log.count(b"1OR") == 1 and emu.error == "@"
    stage.disconnect()


def test_smc100_slow_move_times_out_naming_what_happened(registered: dict) -> None:
    emu = SMC100Emulator(velocity_mm_s=1.0, home_s=0.0, clock=StepClock(1e-6))
    url = registered["add"]("smc", emu)
    stage = SMC100Stage("stage", SMC100Settings(port=url, poll_interval_s=0))
    stage.connect()
    with pytest.raises(DeviceTimeout, match="controller replied but position 250 mm not reached"):
        stage.move_to(250.0, timeout_s=0.01)
    assert emu.state == 0x33  # stopped where it was
    stage.disconnect()


def test_disconnect_closes_the_port(registered: dict) -> None:
    url = registered["add"]("sc10", SC10Emulator())
    shutter = SC10Shutter("pump", SC10Settings(port=url))
    shutter.connect()
    port = shutter.inst.adapter.connection
    assert port.is_open
    shutter.disconnect()
    assert not port.is_open and shutter._inst is None


def test_smc100_over_socket_and_silent_address_times_out() -> None:
    with EmulatorServer(lambda: SMC100Emulator(limits_mm=(0.0, 300.0))) as srv:
        stage = SMC100Stage(
            "stage", SMC100Settings(port=srv.url, travel_mm=(10.0, 200.0), poll_interval_s=0.001)
        )
        stage.connect()
        assert stage.move_to(150.0) == pytest.approx(150.0)
        assert stage.limits_mm == (10.0, 200.0)
        stage.disconnect()
        other = SMC100Stage("stage", SMC100Settings(port=srv.url, address=3, timeout_s=0.1))
        with pytest.raises(DeviceTimeout, match="no reply"):
            other.connect()  # nobody answers at address 3: a timeout, never an empty string


def test_strict_adapter_raises_on_missing_terminator() -> None:
    port = serial.serial_for_url("loop://", timeout=0.05)
    adapter = make_adapter(port, baudrate=9600, timeout_s=0.05, read_termination="\r\n")
    port.write(b"1TP1.0")  # no CR LF
    with pytest.raises(TimeoutError, match="terminator"):
        adapter.read()
    with pytest.raises(TimeoutError, match="expected 4 bytes"):
        adapter.read_bytes(4)


def test_sc10_toggles_only_when_needed_and_refuses_with_interlock(registered: dict) -> None:
    emu = SC10Emulator()
    url = registered["add"]("sc10", emu)
    shutter = SC10Shutter("pump", SC10Settings(port=url, poll_interval_s=0.0005))
    shutter.connect()
    shutter.close()  # already closed: no toggle
    assert emu.toggles == 0
    shutter.open()
    shutter.open()
    assert shutter.is_open() and emu.toggles == 1
    shutter.close()
    assert not shutter.is_open() and emu.toggles == 2
    emu.interlock = True
    with pytest.raises(DeviceStateError, match="interlock"):
        shutter.open()
    assert not shutter.is_open()


def test_sc10_over_socket() -> None:
    with EmulatorServer(SC10Emulator) as srv:
        shutter = SC10Shutter("pump", SC10Settings(port=srv.url, poll_interval_s=0.0005))
        shutter.connect()
        shutter.open()
        assert shutter.status()["open"] is True
        shutter.safe_state()
        assert not shutter.is_open()
        shutter.disconnect()


FILTERS = {
    "1": {"centre_nm": 905.0, "bandwidth_nm": 10.0},
    "2": {"centre_nm": 690.0, "bandwidth_nm": 10.0},
    "6": {"centre_nm": 565.0, "bandwidth_nm": 10.0},
}


def test_fw102c_filter_selector_and_nd_wheel(registered: dict) -> None:
    wl_emu, nd_emu = FW102CEmulator(), FW102CEmulator()
    wheel = FW102CFilterSelector(
        "wl",
        FilterSelectorSettings.model_validate(
            {"port": registered["add"]("wl", wl_emu), "filters": FILTERS}
        ),
    )
    wheel.connect()
    assert sorted(wheel.available_nm()) == [565.0, 690.0, 905.0]
    assert wheel.set_wavelength_nm(565.0) == 565.0
    assert wl_emu.pos == 6 and wl_emu.passed[-2:] == [1, 6]  # shortest path through 6|1
    assert wheel.bandwidth_nm() == 10.0
    nd = FW102CNdAttenuator(
        "nd", NdAttenuatorSettings(port=registered["add"]("nd", nd_emu), poll_interval_s=0)
    )
    nd.connect()
    assert nd.set_setting(6) == 6.0
    assert nd_emu.passed == [1, 2, 3, 4, 5, 6]  # the long way: never through 6|1
    with pytest.raises(Exception, match="outside"):
        nd.set_setting(7)


def test_ell14_rotation_and_out_of_range(registered: dict) -> None:
    emu = ELL14Emulator(address="2")
    url = registered["add"]("ell", emu)
    hwp = ELL14HwpAttenuator("att", ELL14Settings(port=url, address="2", range_deg=(0, 90)))
    hwp.connect()
    assert "ELL14" in hwp.identify()
    assert hwp.set_setting(22.5) == pytest.approx(22.5)
    assert hwp.setting() == pytest.approx(22.5)
    assert emu.log[-2:] == [b"2ma00002300", b"2gp"]
    assert hwp._inst is not None
    with pytest.raises(Exception, match=r"GS04 \(value out of range\)"):
        hwp._inst.move_absolute_pulses(10 * 143360)


def test_ell14_over_socket() -> None:
    with EmulatorServer(ELL14Emulator) as srv:
        hwp = ELL14HwpAttenuator("att", ELL14Settings(port=srv.url))
        hwp.connect()
        assert hwp.set_setting(45.0) == pytest.approx(45.0)
        hwp.disconnect()


def test_apt_stage_with_status_stream_and_keepalive(registered: dict) -> None:
    emu = APTStageEmulator(update_period_s=0.001)
    url = registered["add"]("kbd", emu)
    stage = APTStage(
        "stage", APTStageSettings(port=url, status_updates=True, keepalive_s=0, timeout_s=0.2)
    )
    stage.connect()
    assert emu.homed and emu.updates
    assert stage.move_to(42.5) == pytest.approx(42.5)
    acks = [m for m in emu.log if m[:2] == b"\x92\x04"]
    assert acks, "the driver must acknowledge the status stream"
    stage.disconnect()
    assert not emu.updates


def test_apt_stage_over_socket() -> None:
    with EmulatorServer(APTStageEmulator) as srv:
        stage = APTStage("stage", APTStageSettings(port=srv.url, travel_mm=(0.0, 50.0)))
        stage.connect()
        assert stage.move_to(25.0) == pytest.approx(25.0)
        assert stage.status()["state"] == ["homed", "settled", "enabled"]
        stage.disconnect()


def test_pm100d_on_pyvisa_sim() -> None:
    meter = PM100PowerMeter(
        "pm",
        PM100Settings(
            resource="USB0::0x1313::0x8078::P0012345::INSTR",
            visa_library=f"{PM100_YAML}@sim",
            wavelength_nm=580.0,
            averaging=300,
        ),
    )
    meter.connect()
    assert meter.identify() == "Thorlabs,PM100D,P0012345,2.8.0, sensor S120C 12345678"
    assert meter.status() == {"wavelength_nm": 580.0, "averaging": 300, "auto_range": True}
    assert 1.0e-3 <= meter.read_power_w() <= 1.1e-3
    meter.wavelength_nm = 700.0
    assert meter.wavelength_nm == 700.0
    with pytest.raises(Exception, match="outside the sensor's range"):
        meter.wavelength_nm = 5000.0  # clamped to 1100 nm by the console
    with pytest.raises(DeviceStateError, match="-113"):
        meter.averaging = 0  # refused; the error comes from SYST:ERR?
    meter.zero()
    meter.disconnect()


def test_pm100d_relative_sim_path_resolves_from_the_project() -> None:
    from drivers.thorlabs_pm100 import resolve_visa_library

    assert resolve_visa_library("simulators/emulators/pm100d.yaml@sim") == f"{PM100_YAML}@sim"
    assert resolve_visa_library("@py") == "@py"


def test_devices_are_safe_to_share_between_threads() -> None:
    """A scan thread moving while a panel thread polls: exchanges never interleave."""
    import threading

    stage = SMC100Stage("stage", SMC100Settings(port="emu://smc100", poll_interval_s=0.0005))
    shutter = SC10Shutter("pump", SC10Settings(port="emu://sc10", poll_interval_s=0.0005))
    stage.connect()
    shutter.connect()
    errors: list[BaseException] = []
    done = threading.Event()

    def panel() -> None:
        try:
            while not done.is_set():
                stage.status()
                shutter.is_open()
        except BaseException as exc:
            errors.append(exc)

    poller = threading.Thread(target=panel)
    poller.start()
    try:
        for i in range(30):
            assert stage.move_to(1.0 + i) == pytest.approx(1.0 + i)
            shutter.open() if i % 2 == 0 else shutter.close()
    finally:
        done.set()
        poller.join(timeout=10)
    assert not errors


@pytest.mark.parametrize(
    "port", ["/nonexistent/ttyUSB9", "emu://nosuchdevice", "socket://127.0.0.1:1"]
)
def test_unopenable_port_is_a_disconnect_naming_the_port(port: str) -> None:
    from tamrig.errors import DeviceDisconnected

    shutter = SC10Shutter("pump", SC10Settings(port=port))
    with pytest.raises(DeviceDisconnected, match="cannot open port"):
        shutter.connect()
    assert not shutter.connected and shutter.last_error is not None
