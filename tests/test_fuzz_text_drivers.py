"""Fuzz the reply parsing of the text drivers (SMC100, PM100, ELL14, FW102C, SC10).

Each query is answered, through the same pymeasure ``expected_protocol`` transcripts the
protocol tests use, with well-formed, truncated, mis-addressed and garbled replies. The
oracle below is the vendor's reply format, written independently of the drivers: a
well-formed reply must give its value, anything else a DeviceFault naming the device and
the offending reply — never another exception and never a silently wrong value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymeasure.test import expected_protocol

from drivers.newport_smc100 import HOMING, MOVING, SMC100, SMC100Settings, SMC100Stage
from drivers.thorlabs_ell14 import ELL14, ELL14HwpAttenuator, ELL14Settings, from_hex32
from drivers.thorlabs_fw102c import FW102C, FW102CNdAttenuator, NdAttenuatorSettings
from drivers.thorlabs_pm100 import PM100, PM100PowerMeter, PM100Settings
from drivers.thorlabs_sc10 import SC10, SC10Settings, SC10Shutter
from tamrig.errors import DeviceFault

FUZZ = settings(max_examples=300, deadline=None, derandomize=True)

NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
INTEGER = re.compile(r"[+-]?[0-9]+")
HEX = "0123456789ABCDEF"

# Replies arrive as ASCII decoded with replacement, so U+FFFD stands for any bad byte;
# a few non-ASCII digits check that parsers do not take them for numbers.
junk = st.text(st.one_of(st.characters(codec="ascii"), st.sampled_from("\ufffd١５")), max_size=30)
NASTY = [
    "",
    " ",
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "-1e999",
    "9" * 400,
    "9" * 5000,
    "1_0",
    "0x10",
    "1.2.3",
    "--1",
    "+",
    "-",
    ".",
    "e5",
    "1e",
    "1,2",
    "1 2",
    "\x00",
    "\ufffd",
    "١",
    "1\r2",
    "1\n",
    "9.9E37",
    "0" * 60 + "7",
    "+3",
    "-0",
    "1e-400",
]
nasty = st.one_of(st.sampled_from(NASTY), junk)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
numbers_text = st.one_of(
    finite.map(repr), finite.map(lambda x: f"{x:.6f}"), finite.map(lambda x: f"{x:E}")
)


def framed(prefixes: list[str], good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Replies with the right or a wrong echo, a good or nasty payload, or cut short."""
    right, wrong = prefixes[0], prefixes[1:]
    payload = st.one_of(good, nasty)
    return st.one_of(
        st.builds(str.__add__, st.just(right), payload),
        st.builds(str.__add__, st.sampled_from(wrong), good),
        st.builds(lambda s, n: s[:n], good.map(lambda g: right + g), st.integers(0, 12)),
        junk,
    )


@dataclass(frozen=True)
class Good:
    value: Any


@dataclass(frozen=True)
class Bad:
    shown: str  # the part of the reply the fault message must quote


def number(text: str) -> float | None:
    text = text.strip()
    if NUMBER.fullmatch(text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def integer(text: str) -> int | None:
    text = text.strip()
    # Python refuses to parse integers of more than 4300 digits: a fault, not a value.
    return int(text) if INTEGER.fullmatch(text) and len(text) <= 4300 else None


def check(outcome: Callable[[], Any], expected: Good | Bad, device: str) -> None:
    """The only acceptable outcomes: the expected value, or a fault quoting the reply."""
    try:
        got = outcome()
    except DeviceFault as exc:
        assert isinstance(expected, Bad), f"{expected.value!r} expected, got {exc!r}"
        message = str(exc)
        assert message.startswith(f"{device}: "), message
        assert repr(expected.shown)[1:-1] in message, (expected.shown, message)
        return
    assert isinstance(expected, Good), f"fault quoting {expected.shown!r} expected, got {got!r}"
    assert got == pytest.approx(expected.value)


# -- Newport SMC100 ------------------------------------------------------------------------
def smc_stage(inst: SMC100) -> SMC100Stage:
    return SMC100Stage("stage", SMC100Settings(port="unused", poll_interval_s=0), inst)


def smc_payload(reply: str, prefix: str) -> tuple[str | None, str]:
    m = re.fullmatch(rf"{prefix}\s*(.*)", reply.strip())
    return (m.group(1), m.group(1)) if m else (None, reply.strip())


@FUZZ
@given(framed(["1TP", "2TP", "1TS", "1tp", "TP", "11TP", " 1 TP"], numbers_text))
def test_smc100_position(reply: str) -> None:
    payload, shown = smc_payload(reply, "1TP")
    value = None if payload is None else number(payload)
    expected = Good(value) if value is not None else Bad(shown)
    with expected_protocol(SMC100, [("1TP", reply)]) as inst:
        check(smc_stage(inst).position_mm, expected, "stage")


hex6 = st.text(st.sampled_from(HEX + "abcdef"), min_size=6, max_size=6)


@FUZZ
@given(framed(["1TS", "2TS", "1TP", "1ts", "TS"], st.one_of(hex6, st.sampled_from(["000028"]))))
def test_smc100_state(reply: str) -> None:
    payload, shown = smc_payload(reply, "1TS")
    if payload is not None and re.fullmatch("[0-9A-Fa-f]{6}", payload):
        expected: Good | Bad = Good(int(payload[4:], 16) in MOVING | HOMING)
    else:
        expected = Bad(shown)
    with expected_protocol(SMC100, [("1TS", reply)]) as inst:
        check(smc_stage(inst).is_moving, expected, "stage")


@FUZZ
@given(framed(["1TE", "2TE", "1TS", "TE"], st.sampled_from("@ABCDGHNSVXZ")))
def test_smc100_error_letter(reply: str) -> None:
    payload, shown = smc_payload(reply, "1TE")
    if payload == "@":
        expected: Good | Bad = Good(None)
    elif payload is not None and re.fullmatch("[A-Z]", payload):
        expected = Bad(f"error {payload}")  # the controller's own error, by its letter
    else:
        expected = Bad(shown)
    with expected_protocol(SMC100, [("1ST", None), ("1TE", reply)]) as inst:
        check(smc_stage(inst).stop, expected, "stage")


@FUZZ
@given(framed(["1SL?", "1SL", "2SL", "1SR", "SL"], numbers_text))
def test_smc100_software_limit_on_connect(reply: str) -> None:
    payload, shown = smc_payload(reply, "1SL")
    low = None if payload is None else number(payload)
    if low is None:
        expected: Good | Bad = Bad(shown)
    else:
        expected = Good(low) if low < 300 else Bad("empty travel")
    pairs = [("1TS", "1TS000032"), ("1SL?", reply)]
    if payload is not None and low is not None:
        pairs.append(("1SR?", "1SR300"))
    with expected_protocol(SMC100, pairs) as inst:
        stage = smc_stage(inst)
        check(lambda: (stage.connect(), stage.limits_mm[0])[1], expected, "stage")


# -- Thorlabs ELL14 ------------------------------------------------------------------------
INFO = "0IN0E1140051720231701016800023000"
PULSES_PER_DEG = 0x23000 / 360


def ell_attenuator(inst: ELL14) -> ELL14HwpAttenuator:
    s = ELL14Settings(port="unused", home_on_connect=False)
    return ELL14HwpAttenuator("hwp", s, inst)


hex_digits = st.text(st.sampled_from(HEX), min_size=1, max_size=10)
hex8 = st.text(st.sampled_from(HEX), min_size=8, max_size=8)
hex4 = st.text(st.sampled_from(HEX), min_size=4, max_size=4)


def ell_parts(reply: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"0([A-Z]{2})([0-9A-F]*)", reply.strip())
    return (m.group(1), m.group(2)) if m else None


@FUZZ
@given(
    st.one_of(
        framed(["0PO", "1PO", "0po", "PO", "0GS", "0IN"], hex8),
        framed(["0GS", "1GS"], st.sampled_from(["00", "09", "02", "0D", "7F", "2", "1"])),
    )
)
def test_ell14_position(reply: str) -> None:
    parts = ell_parts(reply)
    expected: Good | Bad = Bad(reply.strip())
    if parts is not None:
        kind, data = parts
        if kind == "PO" and len(data) == 8:
            expected = Good(from_hex32(data) / PULSES_PER_DEG)
        elif kind == "GS" and len(data) == 2 and data != "00":
            expected = Bad(f"GS{data}")
        else:
            expected = Bad(data)
    pairs = [("0in", INFO), ("0gs", "0GS00"), ("0gp", reply)]
    with expected_protocol(ELL14, pairs) as inst:
        hwp = ell_attenuator(inst)
        hwp.connect()
        check(hwp.setting, expected, "hwp")


@FUZZ
@given(framed(["0GS", "1GS", "0PO", "GS"], st.sampled_from(["00", "09", "03", "0B", "FF"])))
def test_ell14_status_on_connect(reply: str) -> None:
    parts = ell_parts(reply)
    expected: Good | Bad = Bad(reply.strip())
    if parts is not None:
        kind, data = parts
        if kind == "GS" and len(data) == 2:
            ok = int(data, 16) in (0, 9)
            expected = Good(None) if ok else Bad(f"GS{data}")
        else:
            expected = Bad(data)
    with expected_protocol(ELL14, [("0in", INFO), ("0gs", reply)]) as inst:
        check(ell_attenuator(inst).connect, expected, "hwp")


info_data = st.builds(
    lambda head, year, tail, ppu: head + year + tail + ppu,
    st.text(st.sampled_from(HEX), min_size=10, max_size=10),
    st.one_of(
        st.integers(1990, 2099).map(str), st.text(st.sampled_from(HEX), min_size=4, max_size=4)
    ),
    st.text(st.sampled_from(HEX), min_size=8, max_size=8),
    st.one_of(st.just("00023000"), st.just("00000000"), hex8),
)


@FUZZ
@given(framed(["0IN", "1IN", "0GS", "IN"], info_data))
def test_ell14_info_on_connect(reply: str) -> None:
    parts = ell_parts(reply)
    expected: Good | Bad = Bad(reply.strip())
    if parts is not None:
        kind, data = parts
        expected = Bad(data)
        if kind == "IN" and len(data) == 30 and data[10:14].isdigit():
            pulses = int(data[22:30], 16)
            expected = Good(None) if pulses > 0 else Bad(f"reports {pulses} pulses")
    pairs = [("0in", reply)]
    if isinstance(expected, Good):
        pairs.append(("0gs", "0GS00"))
    with expected_protocol(ELL14, pairs) as inst:
        check(ell_attenuator(inst).connect, expected, "hwp")


@FUZZ
@given(
    st.one_of(
        framed(["0PO", "1PO", "0GS"], st.one_of(hex8, st.just("00004600"))),
        framed(["0GS", "1GS", "0PO"], st.sampled_from(["00", "09", "02", "0D", "2", "123"])),
    )
)
def test_ell14_move_reply(reply: str) -> None:
    """The reply a move ends with: PO at 45 deg, GS busy/OK then PO, or a failure."""
    parts = ell_parts(reply)
    expected: Good | Bad = Bad(reply.strip())
    pairs = [("0in", INFO), ("0gs", "0GS00"), ("0ma00004600", reply)]
    if parts is not None:
        kind, data = parts
        expected = Bad(data)
        if kind == "PO" and len(data) == 8:
            reached = from_hex32(data) / PULSES_PER_DEG
            expected = Good(reached) if abs(reached - 45) <= 0.05 else Bad("reached")
        elif kind == "GS" and data in ("00", "09"):
            pairs.append((None, "0PO00004600"))  # the position follows
            expected = Good(45.0)
        elif kind == "GS" and len(data) == 2:
            expected = Bad(f"GS{data}")
    with expected_protocol(ELL14, pairs) as inst:
        hwp = ell_attenuator(inst)
        hwp.connect()
        check(lambda: hwp.set_setting(45.0), expected, "hwp")


# -- Thorlabs FW102C and SC10 (echo + reply + prompt) ---------------------------------------
def prompt_reply(cmd: str) -> st.SearchStrategy[str]:
    """A whole exchange up to the prompt: echo, reply lines, with garbling of each part."""
    echo = st.sampled_from([cmd, cmd.upper(), cmd[:-1], "", "pos?", "id?"])
    line = st.one_of(
        st.integers(-3, 14).map(str), st.sampled_from(["0", "1", "CMD_NOT_DEFINED"]), nasty
    )
    lines = st.lists(line, min_size=0, max_size=3)
    sep = st.sampled_from(["\r", "\r\n", "\n"])
    whole = st.builds(lambda e, ls, s: s.join([e, *ls]) + s, echo, lines, sep)
    return st.one_of(whole, whole.map(lambda r: r[: len(r) // 2]), junk)


def prompt_oracle(raw: str, cmd: str, parse: Callable[[str], Any]) -> Good | Bad:
    lines = [p.strip() for p in raw.replace("\n", "\r").split("\r")]
    lines = [p for p in lines if p]
    if not lines or lines[0] != cmd:
        return Bad(raw)
    body = lines[1:]
    for code in ("CMD_NOT_DEFINED", "CMD_ARG_INVALID"):
        if any(code in line for line in body):
            return Bad(code)
    if len(body) != 1:
        return Bad(body[0] if body else "[]")
    value = parse(body[0])
    return Bad(body[0]) if value is None else Good(value)


@FUZZ
@given(prompt_reply("pos?"))
def test_fw102c_slot(raw: str) -> None:
    def slot(text: str) -> int | None:
        value = integer(text)
        return value if value is not None and 1 <= value <= 6 else None

    expected = prompt_oracle(raw, "pos?", slot)
    with expected_protocol(FW102C, [("pcount?", "pcount?\r6\r"), ("pos?", raw)]) as inst:
        wheel = FW102CNdAttenuator("nd", NdAttenuatorSettings(port="unused"), inst)
        wheel.connect()
        check(wheel.setting, expected, "nd")


@FUZZ
@given(prompt_reply("pcount?"))
def test_fw102c_slot_count(raw: str) -> None:
    def count(text: str) -> int | None:
        value = integer(text)
        return value if value in (6, 12) else None

    expected = prompt_oracle(raw, "pcount?", count)
    with expected_protocol(FW102C, [("pcount?", raw)]) as inst:
        wheel = FW102CNdAttenuator("nd", NdAttenuatorSettings(port="unused"), inst)
        check(lambda: (wheel.connect(), wheel.setting_range[1])[1], expected, "nd")


@FUZZ
@given(prompt_reply("closed?"))
def test_sc10_closed(raw: str) -> None:
    expected = prompt_oracle(raw, "closed?", lambda t: {"0": True, "1": False}.get(t))
    with expected_protocol(SC10, [("closed?", raw)]) as inst:
        shutter = SC10Shutter("shutter", SC10Settings(port="unused"), inst)
        check(shutter.is_open, expected, "shutter")


@FUZZ
@given(prompt_reply("mode?"))
def test_sc10_mode_on_connect(raw: str) -> None:
    expected = prompt_oracle(raw, "mode?", integer)  # any mode but 1 is set to 1
    pairs = [("id?", "id?\rSC10 VERSION 1.0\r"), ("mode?", raw)]
    if isinstance(expected, Good) and expected.value != 1:
        pairs.append(("mode=1", "mode=1\r"))
    expected = Good(None) if isinstance(expected, Good) else expected
    with expected_protocol(SC10, pairs) as inst:
        shutter = SC10Shutter("shutter", SC10Settings(port="unused"), inst)
        check(shutter.connect, expected, "shutter")


# -- Thorlabs PM100 (SCPI) -----------------------------------------------------------------
SENSOR = ("SYST:SENSOR:IDN?", "S120C,12345678,10-Jan-2024,1,18,289")
scpi_numbers = st.one_of(numbers_text, st.sampled_from(["9.9E37", "-9.9E37", "1.234567E-03"]))


def scpi(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(good, nasty, st.builds(lambda g, n: g[:n], good, st.integers(0, 8)))


def pm100_meter(inst: PM100) -> PM100PowerMeter:
    s = PM100Settings.model_validate({"resource": "unused", "poll_interval_s": 0.0})
    return PM100PowerMeter("pm", s, inst)


@FUZZ
@given(scpi(scpi_numbers))
def test_pm100_power(reply: str) -> None:
    value = number(reply)
    if value is None:
        expected: Good | Bad = Bad(reply.strip())
    elif abs(value) >= 9.0e37:
        expected = Bad("out of range")
    else:
        expected = Good(value)
    with expected_protocol(PM100, [SENSOR, ("MEAS:POW?", reply)]) as inst:
        check(pm100_meter(inst).read_power_w, expected, "pm")


@FUZZ
@given(scpi(st.integers(-5, 100000).map(str)))
def test_pm100_averaging(reply: str) -> None:
    value = integer(reply)
    expected = Good(value) if value is not None else Bad(reply.strip())
    with expected_protocol(PM100, [SENSOR, ("SENS:AVER:COUN?", reply)]) as inst:
        check(lambda: pm100_meter(inst).averaging, expected, "pm")


@FUZZ
@given(scpi(numbers_text))
def test_pm100_wavelength(reply: str) -> None:
    value = number(reply)
    expected = Good(value) if value is not None else Bad(reply.strip())
    with expected_protocol(PM100, [SENSOR, ("SENSE:CORR:WAV?", reply)]) as inst:
        check(lambda: pm100_meter(inst).wavelength_nm, expected, "pm")


@FUZZ
@given(
    scpi(
        st.one_of(
            st.sampled_from(
                ['+0,"No error"', '-222,"Data out of range"', "0", '-221,""', "9" * 5000 + ',"x"']
            ),
            st.builds(lambda c, t: f'{c},"{t}"', st.integers(-400, 400), junk),
        )
    )
)
def test_pm100_error_queue_after_a_setting(reply: str) -> None:
    # <code>,"<message>" with a 16-bit SCPI error number
    m = re.fullmatch(r'([+-]?[0-9]{1,5})\s*,\s*"?(.*?)"?', reply.strip())
    pairs = [SENSOR, ("SENS:AVER:COUN 5", None), ("SYST:ERR?", reply)]
    if m is None:
        expected: Good | Bad = Bad(reply.strip())
    elif int(m.group(1)) == 0:
        expected = Good(None)
    else:
        expected = Bad(f"error {int(m.group(1))}")
        pairs.append(("SYST:ERR?", '+0,"No error"'))  # the queue is drained

    def set_averaging() -> None:
        pm100_meter(inst).averaging = 5

    with expected_protocol(PM100, pairs) as inst:
        check(set_averaging, expected, "pm")
