"""Command transcripts (pymeasure expected_protocol) built from the vendors' manuals.

Pairs are (bytes sent, bytes received) without terminators; every command a driver uses
appears here with its documented reply.
"""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from drivers.common import ReplyError, VendorError
from drivers.newport_smc100 import READY, SMC100, SMC100Settings, SMC100Stage
from drivers.thorlabs_ell14 import ELL14, ELL14HwpAttenuator, ELL14Settings, from_hex32, to_hex32
from drivers.thorlabs_fw102c import (
    FW102C,
    FilterSelectorSettings,
    FW102CFilterSelector,
    FW102CNdAttenuator,
    NdAttenuatorSettings,
    move_path,
)
from drivers.thorlabs_sc10 import SC10, SC10Settings, SC10Shutter
from tamrig.errors import DeviceProtocolError, DeviceStateError, DeviceTimeout


# -- Newport SMC100 ------------------------------------------------------------------------
def test_smc100_queries_strip_the_echoed_prefix() -> None:
    with expected_protocol(
        SMC100,
        [
            ("2TP", "2TP12.345678"),
            ("2TS", "2TS000033"),
            ("2SL?", "2SL-12.5"),
            ("2SR?", "2SR300"),
            ("2VA?", "2VA5"),
            ("2VE", "2VE SMC_CC - Controller-driver version 3.0.0"),
            ("2ID?", "2ID ILS150CC"),
        ],
        address=2,
    ) as inst:
        ax = inst.axis
        assert ax.position == pytest.approx(12.345678)
        assert ax.state == (0, 0x33)
        assert ax.limits() == (-12.5, 300.0)
        assert ax.velocity == 5.0
        assert ax.firmware == "SMC_CC - Controller-driver version 3.0.0"
        assert ax.stage_id == "ILS150CC"


def test_smc100_set_commands_check_the_error_latch() -> None:
    with expected_protocol(
        SMC100,
        [
            ("1PA3.000000", None),
            ("1TE", "1TEH"),
            ("1OR", None),
            ("1TE", "1TE@"),
            ("1VA20", None),
            ("1TE", "1TE@"),
            ("1ST", None),
            ("1TE", "1TE@"),
            ("1MM1", None),
            ("1TE", "1TE@"),
        ],
    ) as inst:
        with pytest.raises(VendorError) as err:
            inst.axis.target_position = 3
        assert err.value.code == "H" and "NOT REFERENCED" in err.value.meaning
        inst.axis.home()
        inst.axis.velocity = 20
        inst.axis.stop()
        inst.axis.enable()


def test_smc100_wait_polls_ts_until_ready() -> None:
    with expected_protocol(
        SMC100, [("1TS", "1TS000028"), ("1TS", "1TS000028"), ("1TS", "1TS000033")]
    ) as inst:
        assert inst.axis.wait_state(READY, 5.0, 0.0, "move") == 0x33


def test_smc100_positioner_error_bits_surface() -> None:
    pairs = [("1TS", "1TS002028")]
    with expected_protocol(SMC100, pairs) as inst, pytest.raises(VendorError, match="following"):
        inst.axis.wait_state(READY, 5.0, 0.0, "move")


def test_smc100_garbled_reply_is_a_protocol_error() -> None:
    with expected_protocol(SMC100, [("1TP", "2TP1.0")]) as inst, pytest.raises(ReplyError):
        _ = inst.axis.position


def test_smc100_stage_connect_homes_when_not_referenced() -> None:
    pairs = [
        ("1TS", "1TS00000A"),
        ("1OR", None),
        ("1TE", "1TE@"),
        ("1TS", "1TS00001E"),
        ("1TS", "1TS000032"),
        ("1SL?", "1SL0"),
        ("1SR?", "1SR300"),
        ("1PA150.000000", None),
        ("1TE", "1TE@"),
        ("1TS", "1TS000028"),
        ("1TS", "1TS000033"),
        ("1TP", "1TP150.000000"),
    ]
    with expected_protocol(SMC100, pairs) as inst:
        stage = SMC100Stage(
            "stage", SMC100Settings(port="unused", travel_mm=(0, 200), poll_interval_s=0), inst
        )
        stage.connect()
        assert stage.limits_mm == (0.0, 200.0)
        assert stage.move_to(150.0) == 150.0
        with pytest.raises(Exception, match="outside travel"):
            stage.move_to(250.0)  # refused before anything is sent


def test_smc100_stage_vendor_error_is_a_state_error() -> None:
    pairs = [("1TS", "1TS000032"), ("1SL?", "1SL0"), ("1SR?", "1SR25"), ("1PA5.000000", None)]
    pairs += [("1TE", "1TEN")]
    with expected_protocol(SMC100, pairs) as inst:
        stage = SMC100Stage("stage", SMC100Settings(port="unused", poll_interval_s=0), inst)
        stage.connect()
        with pytest.raises(DeviceStateError, match="error N"):
            stage.start_move(5.0)
        assert stage.last_error is not None and "software limit" in stage.last_error


def smc_stage(inst: SMC100, **kw: object) -> SMC100Stage:
    settings = SMC100Settings.model_validate({"port": "unused", "poll_interval_s": 0} | kw)
    return SMC100Stage("stage", settings, inst)


def test_smc100_home_on_a_referenced_stage_sends_no_or() -> None:
    # READY: the stage is referenced; OR would be refused with error D or K
    with expected_protocol(SMC100, [("1TS", "1TS000033")]) as inst:
        smc_stage(inst).home()


def test_smc100_home_on_an_unreferenced_stage_homes_and_waits() -> None:
    pairs = [
        ("1TS", "1TS00000A"),
        ("1OR", None),
        ("1TE", "1TE@"),
        ("1TS", "1TS00001E"),
        ("1TS", "1TS000032"),
    ]
    with expected_protocol(SMC100, pairs) as inst:
        smc_stage(inst).home()


def test_smc100_connect_waits_out_a_homing_left_by_a_killed_session() -> None:
    pairs = [
        ("1TS", "1TS00001E"),  # still homing from before
        ("1TS", "1TS00001E"),
        ("1TS", "1TS00001F"),
        ("1TS", "1TS000032"),  # READY from HOMING: no second OR
        ("1SL?", "1SL0"),
        ("1SR?", "1SR300"),
    ]
    with expected_protocol(SMC100, pairs) as inst:
        stage = smc_stage(inst)
        stage.connect()
        assert stage.connected and stage.limits_mm == (0.0, 300.0)


def test_smc100_connect_waits_out_a_move_then_homes_if_it_fell_back() -> None:
    pairs = [
        ("1TS", "1TS000028"),  # MOVING, left by a killed scan
        ("1TS", "1TS00000A"),  # ... ended NOT REFERENCED (e.g. after a reset)
        ("1OR", None),
        ("1TE", "1TE@"),
        ("1TS", "1TS000032"),
        ("1SL?", "1SL0"),
        ("1SR?", "1SR300"),
    ]
    with expected_protocol(SMC100, pairs) as inst:
        smc_stage(inst).connect()


def test_smc100_connect_refuses_a_controller_that_stays_homing() -> None:
    pairs = [("1TS", "1TS00001E")] * 3  # found, polled once past the deadline, reported
    with expected_protocol(SMC100, pairs) as inst:
        stage = smc_stage(inst, home_timeout_s=1e-9)
        with pytest.raises(DeviceStateError, match=r"still HOMING .* earlier session"):
            stage.connect()
        assert not stage.connected


def test_smc100_move_timeout_says_the_controller_replied() -> None:
    pairs = [
        ("1PA150.000000", None),
        ("1TE", "1TE@"),
        ("1TS", "1TS000028"),
        ("1TS", "1TS000028"),
        ("1TP", "1TP97.5"),
        ("1ST", None),
        ("1TE", "1TE@"),
    ]
    with expected_protocol(SMC100, pairs) as inst:
        stage = smc_stage(inst, travel_mm=(0, 300))
        stage.start_move(150.0)
        with pytest.raises(DeviceTimeout) as err:
            stage.wait_until_stopped(1e-9)
        message = str(err.value)
        assert "controller replied but position 150 mm not reached within 1e-09 s" in message
        assert "MOVING, at 97.5 mm" in message and "no reply" not in message


# -- Thorlabs SC10 -------------------------------------------------------------------------
def test_sc10_open_reads_state_before_toggling() -> None:
    pairs = [
        ("interlock?", "interlock?\r0\r"),
        ("ens?", "ens?\r0\r"),
        ("ens", "ens\r"),
        ("closed?", "closed?\r1\r"),
        ("closed?", "closed?\r0\r"),
        # already open: no toggle
        ("interlock?", "interlock?\r0\r"),
        ("ens?", "ens?\r1\r"),
        ("closed?", "closed?\r0\r"),
    ]
    with expected_protocol(SC10, pairs) as inst:
        shutter = SC10Shutter("pump", SC10Settings(port="unused", poll_interval_s=0), inst)
        shutter.open()
        shutter.open()


def test_sc10_close_and_confirm_failure() -> None:
    # the blade never follows; with a zero confirm time the sensor is read exactly once
    pairs = [("ens?", "ens?\r1\r"), ("ens", "ens\r"), ("closed?", "closed?\r0\r")]
    with expected_protocol(SC10, pairs) as inst:
        shutter = SC10Shutter(
            "pump", SC10Settings(port="unused", poll_interval_s=0, confirm_timeout_s=0), inst
        )
        with pytest.raises(DeviceStateError, match="does not report closed"):
            shutter.close()


def test_sc10_queries_and_errors() -> None:
    pairs = [
        ("id?", "id?\rTHORLABS SC10 VERSION 1.07\r"),
        ("mode?", "mode?\r1\r"),
        ("mode=9", "mode=9\rCMD_ARG_INVALID\r"),
        ("foo", "foo\rCMD_NOT_DEFINED\r"),
        ("ens?", "xx\r0\r"),
    ]
    with expected_protocol(SC10, pairs) as inst:
        assert inst.identity == "THORLABS SC10 VERSION 1.07"
        assert inst.mode == 1
        with pytest.raises(ValueError):
            inst.mode = 9  # no such mode: refused before anything is sent
        with pytest.raises(VendorError, match="CMD_ARG_INVALID"):
            inst.command("mode=9")
        with pytest.raises(VendorError, match="CMD_NOT_DEFINED"):
            inst.command("foo")
        with pytest.raises(ReplyError, match="echo"):
            _ = inst.enabled


# -- Thorlabs FW102C -----------------------------------------------------------------------
FILTERS = {
    1: {"centre_nm": 905.0, "bandwidth_nm": 10.0},
    4: {"centre_nm": 565.0, "bandwidth_nm": 10.0},
}


def test_fw102c_filter_selector_moves_and_confirms() -> None:
    pairs = [
        ("pcount?", "pcount?\r6\r"),
        ("pos?", "pos?\r1\r"),
        ("pos=4", "pos=4\r"),
        ("pos?", "pos?\r4\r"),
        ("pos?", "pos?\r4\r"),
        ("*idn?", "*idn?\rTHORLABS FW102C/FW212C Filter Wheel version 1.07\r"),
    ]
    with expected_protocol(FW102C, pairs) as inst:
        wheel = FW102CFilterSelector(
            "wl", FilterSelectorSettings(port="unused", filters=FILTERS, poll_interval_s=0), inst
        )
        wheel.connect()
        assert wheel.set_wavelength_nm(565.0) == 565.0
        assert wheel.wavelength_nm() == 565.0
        assert "FW102C" in wheel.identify()
        with pytest.raises(Exception, match="not available"):
            wheel.set_wavelength_nm(700.0)


def test_fw102c_errors_and_bad_replies() -> None:
    pairs = [
        ("pos=9", "pos=9\rCommand error CMD_ARG_INVALID\r"),
        ("pos?", "pos?\rx\r"),
    ]
    with expected_protocol(FW102C, pairs) as inst:
        with pytest.raises(VendorError, match="CMD_ARG_INVALID"):
            inst.set_position(9, 1.0)
        with pytest.raises(ReplyError, match="integer"):
            _ = inst.position


def test_fw102c_nd_wheel_never_crosses_the_boundary() -> None:
    assert move_path(2, 6, 6, respect_bound=False) == [6]
    assert move_path(2, 6, 6, respect_bound=True) == [4, 6]
    assert move_path(6, 1, 6, respect_bound=True) == [4, 2, 1]
    pairs = [
        ("pcount?", "pcount?\r6\r"),
        ("pos?", "pos?\r2\r"),
        ("pos=4", "pos=4\r"),
        ("pos?", "pos?\r4\r"),
        ("pos=6", "pos=6\r"),
        ("pos?", "pos?\r6\r"),
    ]
    with expected_protocol(FW102C, pairs) as inst:
        nd = FW102CNdAttenuator("nd", NdAttenuatorSettings(port="unused", poll_interval_s=0), inst)
        nd.connect()
        assert nd.setting_range == (1.0, 6.0)
        assert nd.set_setting(6) == 6.0
        with pytest.raises(Exception, match="outside"):
            nd.set_setting(7)


def test_fw102c_filter_table_checked_against_the_wheel() -> None:
    table = {8: {"centre_nm": 500.0, "bandwidth_nm": 10.0}}
    with expected_protocol(FW102C, [("pcount?", "pcount?\r6\r")]) as inst:
        wheel = FW102CFilterSelector(
            "wl", FilterSelectorSettings(port="unused", filters=table), inst
        )
        with pytest.raises(Exception, match=r"slots \[8\]"):
            wheel.connect()


# -- Thorlabs ELL14 ------------------------------------------------------------------------
INFO = "0IN0E1140051720231701016800023000"


def test_ell14_hex_helpers() -> None:
    assert to_hex32(46080) == "0000B400"
    assert to_hex32(-1) == "FFFFFFFF"
    assert from_hex32("FFFFFFFF") == -1
    assert from_hex32("0000B400") == 46080


def test_ell14_info_status_position() -> None:
    with expected_protocol(
        ELL14, [("0in", INFO), ("0gs", "0GS00"), ("0gp", "0PO0000B400")]
    ) as inst:
        info = inst.info()
        assert (info.motor_type, info.serial, info.year) == (14, "11400517", 2023)
        assert (info.travel, info.pulses_per_unit) == (360, 143360)
        assert inst.status() == 0
        assert inst.position_pulses() == 0xB400


def test_ell14_hwp_moves_in_degrees_and_waits_for_completion() -> None:
    pairs = [
        ("0in", INFO),
        ("0gs", "0GS00"),
        ("0ho0", "0PO00000000"),
        ("0ma00004600", "0GS09"),  # busy while moving, then the position on completion
        (None, "0PO00004600"),
        ("0ma00002300", "0GS02"),  # mechanical time out
    ]
    with expected_protocol(ELL14, pairs) as inst:
        hwp = ELL14HwpAttenuator("att", ELL14Settings(port="unused", range_deg=(0, 90)), inst)
        hwp.connect()
        assert hwp.set_setting(45.0) == pytest.approx(45.0)  # 143360 / 8 = 0x4600 pulses
        with pytest.raises(DeviceStateError, match=r"GS02 \(mechanical time out\)"):
            hwp.set_setting(22.5)
        with pytest.raises(Exception, match="outside"):
            hwp.set_setting(120.0)


def test_ell14_other_address_and_garbage() -> None:
    pairs = [("Agp", "0PO00000000")]
    with expected_protocol(ELL14, pairs, address="A") as inst, pytest.raises(ReplyError):
        inst.position_pulses()


def test_protocol_errors_are_translated_by_the_device() -> None:
    with expected_protocol(FW102C, [("pcount?", "pcount?\rsix\r")]) as inst:
        wheel = FW102CNdAttenuator("nd", NdAttenuatorSettings(port="unused"), inst)
        with pytest.raises(DeviceProtocolError, match="integer"):
            wheel.connect()
