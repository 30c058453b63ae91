"""Thorlabs echo-and-prompt ASCII framing (SC10 shutter controller, FW102C/FW212C wheels).

The host sends ``cmd\\r``; the device echoes ``cmd\\r``, sends any reply lines ending in
``\\r`` and finally the prompt ``"> "`` (no terminator). One read up to the prompt therefore
returns a whole exchange, which this class splits and checks: the echo must match, and
``CMD_NOT_DEFINED`` / ``CMD_ARG_INVALID`` lines become :class:`VendorError`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from pymeasure.instruments import Instrument

from drivers.common import InstrumentLock, ReplyError, VendorError, exchange
from drivers.transport import StrictSerialAdapter, make_adapter

PROMPT = "> "
WRITE_TERMINATION = "\r"

ERRORS = {
    "CMD_NOT_DEFINED": "command not defined",
    "CMD_ARG_INVALID": "argument invalid or out of range",
}


def prompt_adapter(port: str, baudrate: int, timeout_s: float) -> StrictSerialAdapter:
    """An adapter whose read ends at the prompt, as every exchange does."""
    return make_adapter(
        port,
        baudrate=baudrate,
        timeout_s=timeout_s,
        write_termination=WRITE_TERMINATION,
        read_termination=PROMPT,
    )


class PromptInstrument(InstrumentLock, Instrument):
    """An instrument speaking the echo + reply + prompt dialect."""

    def __init__(self, adapter: Any, name: str, **kwargs: Any) -> None:
        super().__init__(adapter, name, includeSCPI=False, **kwargs)

    @exchange
    def command(self, cmd: str) -> list[str]:
        """Send ``cmd``; return the reply lines between the echo and the prompt."""
        self.write(cmd)
        raw = self.read()
        lines = [part.strip() for part in raw.replace("\n", "\r").split("\r")]
        lines = [line for line in lines if line]
        if not lines or lines[0] != cmd:
            raise ReplyError(f"{raw!r} to {cmd!r} (expected the echo {cmd!r} first)")
        body = lines[1:]
        for line in body:
            for code, meaning in ERRORS.items():
                if code in line:
                    raise VendorError(code, meaning, repr(cmd))
        return body

    def query(self, cmd: str) -> str:
        """Send a query and return its single reply line."""
        body = self.command(cmd)
        if len(body) != 1:
            raise ReplyError(f"{body!r} to {cmd!r} (expected exactly one reply line)")
        return body[0]

    def query_int(self, cmd: str) -> int:
        text = self.query(cmd)
        try:  # int() alone would also take '1_0' and non-ASCII digits
            if re.fullmatch(r"[+-]?[0-9]+", text) is None:
                raise ValueError(text)
            return int(text)
        except ValueError:  # also the digit-count limit of very long numbers
            raise ReplyError(f"{text!r} to {cmd!r} (expected an integer)") from None

    @contextlib.contextmanager
    def slow(self, seconds: float) -> Iterator[None]:
        """Allow a longer wait for the prompt (moves that reply only when done)."""
        adapter = self.adapter
        if isinstance(adapter, StrictSerialAdapter):
            with adapter.timeout(seconds):
                yield
        else:
            yield

    def close(self) -> None:
        adapter = self.adapter
        if isinstance(adapter, StrictSerialAdapter):
            adapter.close()
