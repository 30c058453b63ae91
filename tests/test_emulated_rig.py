"""A whole rig of real drivers against the protocol emulators (config/rigs/emulated.toml),
in process (emu://) and over TCP (socket://), through `tamrig devices` and the Rig API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from simulators.emulators import register, unregister
from simulators.emulators.fw102c import FW102CEmulator
from simulators.emulators.sc10 import SC10Emulator
from simulators.emulators.server import EmulatorServer
from simulators.emulators.smc100 import SMC100Emulator
from tamrig.cli import main
from tamrig.devices import ROLES
from tamrig.errors import InterlockError
from tamrig.rig import build_rig

EMULATED = REPO / "config" / "rigs" / "emulated.toml"
EMU_PORTS = {
    "stage": 'port = "emu://smc100?velocity_mm_s=2000"',
    "pump_shutter": 'port = "emu://sc10"',
    "wavelength_selector": 'port = "emu://fw102c"',
}


def _viky_available() -> bool:
    try:
        from drivers.genicam_camera import find_cti

        find_cti("viky.cti")
    except Exception:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _viky_available(), reason="the genicam wheel's viky.cti producer is not installed"
)


def variant(tmp_path: Path, replacements: dict[str, str]) -> Path:
    """emulated.toml with some devices' port lines replaced."""
    text = EMULATED.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "rig.toml"
    path.write_text(text)
    return path


def test_tamrig_devices_on_the_emulated_rig(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--rig", str(EMULATED), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {row["role"]: row for row in report["devices"]}
    assert set(rows) == set(ROLES)
    for row in rows.values():
        assert row["identity"] and row["identity"] != "?", row
    assert "SMC_CC" in rows["stage"]["identity"]
    assert rows["stage"]["state"]["state"] == "READY"
    assert rows["pump_shutter"]["state"]["open"] is False
    assert rows["camera"]["identity"].startswith("Machine Vision Games Ltd. Viky")
    assert rows["power_meter"]["state"]["wavelength_nm"] == 580.0
    assert rows["wavelength_selector"]["state"]["centre_nm"] == 905.0


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, dict[str, object]]]:
    """The emulated rig with the stage, pump shutter and wheel emulators open to inspection."""
    emus = {
        "stage": SMC100Emulator(velocity_mm_s=2000.0),
        "pump_shutter": SC10Emulator(),
        "wavelength_selector": FW102CEmulator(),
    }
    for role, emu in emus.items():
        register(f"rig-{role}", emu)
    path = variant(tmp_path, {EMU_PORTS[r]: f'port = "emu://@rig-{r}"' for r in emus})
    yield path, emus
    for role in emus:
        unregister(f"rig-{role}")


def test_rig_of_real_drivers_runs_a_pump_probe_point(watched: tuple[Path, dict]) -> None:
    path, emus = watched
    with build_rig(path) as rig:
        reached = rig.set_delay_fs(1000.0)
        assert reached == pytest.approx(1000.0, abs=1.0)  # SMC100 positions are 1 nm steps
        assert emus["stage"].position == pytest.approx(rig.delay_to_mm(1000.0))
        assert rig.wavelength_selector is not None and rig.attenuator is not None
        assert rig.wavelength_selector.set_wavelength_nm(690.0) == 690.0
        assert emus["wavelength_selector"].pos == 2
        assert rig.attenuator.set_setting(30.0) == pytest.approx(30.0, abs=0.01)
        assert rig.power_meter is not None and rig.power_meter.read_power_w() > 0
        with pytest.raises(InterlockError):
            rig.open_pump()  # camera not acquiring
        rig.camera.start()
        rig.open_pump()
        assert not emus["pump_shutter"].closed
        block = rig.camera.read(20, timeout_s=5.0)
        rig.close_pump()
        rig.camera.stop()
        assert block.data.shape == (20, 128, 128)
        assert np.all(np.diff(block.frame_id) >= 1)  # camera frame ids, in order
    assert emus["pump_shutter"].closed


def test_fault_inside_the_rig_leaves_the_pump_closed(watched: tuple[Path, dict]) -> None:
    path, emus = watched
    with pytest.raises(RuntimeError, match="boom"), build_rig(path) as rig:
        rig.camera.start()
        rig.open_pump()
        assert not emus["pump_shutter"].closed
        raise RuntimeError("boom")
    assert emus["pump_shutter"].closed
    assert emus["pump_shutter"].enabled is False


def test_emulated_rig_over_tcp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    servers = {
        "stage": EmulatorServer(SMC100Emulator).start(),
        "pump_shutter": EmulatorServer(SC10Emulator).start(),
        "wavelength_selector": EmulatorServer(FW102CEmulator).start(),
    }
    try:
        path = variant(
            tmp_path, {EMU_PORTS[r]: f'port = "{srv.url}"' for r, srv in servers.items()}
        )
        assert main(["devices", "--rig", str(path), "--json"]) == 0
        rows = {r["role"]: r for r in json.loads(capsys.readouterr().out)["devices"]}
        assert rows["stage"]["state"]["state"] == "READY"
        assert servers["stage"].emulators[0].state == 0x32  # homed over TCP
    finally:
        for srv in servers.values():
            srv.close()


def test_lab_example_rig_validates_against_the_drivers() -> None:
    rig = build_rig(REPO / "config" / "rigs" / "lab-example.toml")  # built, not connected
    kinds = {role: type(dev).__name__ for role, dev in rig.devices.items()}
    assert kinds["stage"] == "SMC100Stage" and kinds["camera"] == "GenICamCamera"
    assert kinds["attenuator"] == "ELL14HwpAttenuator"


def test_driver_table_typo_names_file_and_field(tmp_path: Path) -> None:
    from tamrig.errors import ConfigError

    path = variant(tmp_path, {"poll_interval_s = 0.002": "pol_interval_s = 0.002"})
    with pytest.raises(ConfigError, match=r"devices\.stage\.pol_interval_s"):
        build_rig(path)


def test_acquisition_on_real_drivers_shutter_scheme(watched: tuple[Path, dict]) -> None:
    """One ΔT/T point through tamrig's acquisition layer: pump shutter blocks on the SC10
    emulator, frames from the GenICam driver on viky (no chopper tag, so 'shutter')."""
    from tamrig.acquisition.sequencing import acquire_point

    path, emus = watched
    with build_rig(path) as rig:
        rig.set_delay_fs(500.0)
        image = acquire_point(rig, n_pairs=8, scheme="shutter", dark=None, block_frames=8)
        assert image.dtt.shape == (128, 128)
        assert (image.n_on, image.n_off) == (8, 8)
        assert emus["pump_shutter"].toggles >= 2  # opened and closed by the real driver
        assert emus["pump_shutter"].closed
        assert not rig.camera.acquiring
