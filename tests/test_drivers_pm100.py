"""PM100D / PM100USB SCPI transcripts (the console's documented commands and replies)."""

from __future__ import annotations

import pytest
from pymeasure.test import expected_protocol

from drivers.common import ReplyError, VendorError
from drivers.thorlabs_pm100 import PM100, PM100PowerMeter, PM100Settings
from tamrig.errors import DeviceStateError

SENSOR = ("SYST:SENSOR:IDN?", "S120C,12345678,10-Jan-2024,1,18,289")
NO_ERROR = ("SYST:ERR?", '+0,"No error"')


def settings(**kw: object) -> PM100Settings:
    base = {"resource": "unused", "poll_interval_s": 0.0}
    return PM100Settings.model_validate(base | kw)


def test_connect_applies_wavelength_averaging_and_auto_range() -> None:
    pairs = [
        SENSOR,  # pymeasure's base class asks at construction
        NO_ERROR,
        ("SENS:CORR:WAV? MIN", "4.000000E+02"),
        ("SENS:CORR:WAV? MAX", "1.100000E+03"),
        ("SENSE:CORR:WAV 580.0", None),
        NO_ERROR,
        ("SENSE:CORR:WAV?", "5.800000E+02"),
        ("SENS:AVER:COUN 300", None),
        NO_ERROR,
        ("SENS:POW:RANG:AUTO 1", None),
        NO_ERROR,
        ("*IDN?", "Thorlabs,PM100D,P0012345,2.8.0"),
        ("MEAS:POW?", "1.234567E-03"),
    ]
    with expected_protocol(PM100, pairs) as inst:
        meter = PM100PowerMeter("pm", settings(averaging=300), inst)
        meter.connect()
        assert meter.identify() == "Thorlabs,PM100D,P0012345,2.8.0, sensor S120C 12345678"
        assert meter.read_power_w() == pytest.approx(1.234567e-3)


def test_error_queue_is_drained_and_the_first_error_raised() -> None:
    pairs = [
        SENSOR,
        ("SENS:AVER:COUN 0", None),
        ("SYST:ERR?", '-222,"Data out of range"'),
        ("SYST:ERR?", '-221,"Settings conflict"'),
        NO_ERROR,
        ("SYST:ERR?", "garbage"),
    ]
    with expected_protocol(PM100, pairs) as inst:
        with pytest.raises(VendorError) as err:
            inst.averaging = 0
        assert (err.value.code, err.value.meaning) == ("-222", "Data out of range")
        with pytest.raises(ReplyError, match="SYST:ERR"):
            inst.pop_error()


def test_queries_zero_and_overrange() -> None:
    pairs = [
        SENSOR,
        ("SENS:AVER:COUN?", "300"),
        ("SENS:POW:RANG:AUTO?", "0"),
        ("SENS:CORR:COLL:ZERO:INIT", None),
        NO_ERROR,
        ("SENS:CORR:COLL:ZERO:STAT?", "1"),
        ("SENS:CORR:COLL:ZERO:STAT?", "0"),
        NO_ERROR,
        ("MEAS:POW?", "9.9E37"),
    ]
    with expected_protocol(PM100, pairs) as inst:
        meter = PM100PowerMeter("pm", settings(), inst)
        assert meter.averaging == 300
        assert inst.auto_range is False
        meter.zero()
        with pytest.raises(DeviceStateError, match="out of range"):
            meter.read_power_w()


def test_no_sensor_is_refused() -> None:
    with (
        pytest.raises(OSError, match="No sensor"),
        expected_protocol(PM100, [("SYST:SENSOR:IDN?", "no sensor,0,0,0,0,0")]),
    ):
        pass


def test_a_garbled_reply_is_a_protocol_fault_not_a_crash() -> None:
    """Line noise (a byte that is not text) must surface as a retryable DeviceProtocolError
    naming the device, like any other unexpected reply."""
    from tamrig.errors import DeviceProtocolError

    with expected_protocol(PM100, [SENSOR, ("MEAS:POW?", b"1.2E-3\xff\xfe")]) as inst:
        meter = PM100PowerMeter("pm", settings(), inst)
        with pytest.raises(DeviceProtocolError, match=r"pm.*not text"):
            meter.read_power_w()
        assert meter.last_error is not None and "not text" in meter.last_error
