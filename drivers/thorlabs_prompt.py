"""Thorlabs echo-and-prompt ASCII framing (SC10 shutter controller, FW102C/FW212C wheels).

The host sends ``cmd\\r``; the device echoes ``cmd\\r``, sends any reply lines ending in
``\\r`` and finally the prompt ``"> "`` (no terminator). One read up to the prompt therefore
returns a whole exchange, which this class splits and checks: the echo must match, and
``CMD_NOT_DEFINED`` / ``CMD_ARG_INVALID`` lines become :class:`VendorError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from pymeasure.instruments import Instrument

from drivers.common import InstrumentLock, ReplyError, VendorError, exchange
from drivers.transport import (
    SerialSettings,
    StrictSerialAdapter,
    adapter_timeout,
    serial_adapter,
)

PROMPT = "> "
WRITE_TERMINATION = "\r"

ERRORS = {
    "CMD_NOT_DEFINED": "command not defined",
    "CMD_ARG_INVALID": "argument invalid or out of range",
}


def prompt_adapter(settings: SerialSettings) -> StrictSerialAdapter:
    """An adapter whose read ends at the prompt, as every exchange does."""
    return serial_adapter(settings, write_termination=WRITE_TERMINATION, read_termination=PROMPT)


class PromptInstrument(InstrumentLock, Instrument):
    """An instrument speaking the echo + reply + prompt dialect.

    Declared queries (``measurement``) go through :meth:`ask`, which returns the single reply
    line; a declared setting's echo and error lines are read by :meth:`check_set_errors`.
    """

    #: the last command sent: what the echo must repeat
    last_command = ""

    def __init__(self, adapter: Any, name: str, **kwargs: Any) -> None:
        super().__init__(adapter, name, includeSCPI=False, **kwargs)

    def write(self, command: str, **kwargs: Any) -> None:
        self.last_command = command
        super().write(command, **kwargs)

    def _reply_lines(self) -> list[str]:
        """Read up to the prompt; check the echo and error lines; return the reply lines."""
        cmd = self.last_command
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

    @exchange
    def command(self, cmd: str) -> list[str]:
        """Send ``cmd``; return the reply lines between the echo and the prompt."""
        self.write(cmd)
        return self._reply_lines()

    def query(self, cmd: str) -> str:
        """Send a query and return its single reply line."""
        body = self.command(cmd)
        if len(body) != 1:
            raise ReplyError(f"{body!r} to {cmd!r} (expected exactly one reply line)")
        return body[0]

    def ask(self, command: str, query_delay: float | None = None) -> str:
        return self.query(command)

    def check_set_errors(self) -> list[str]:
        body = self._reply_lines()
        if body:
            raise ReplyError(f"{body!r} to {self.last_command!r} (expected no reply line)")
        return []

    @contextlib.contextmanager
    def slow(self, seconds: float) -> Iterator[None]:
        """Allow a longer wait for the prompt (moves that reply only when done)."""
        with adapter_timeout(self.adapter, seconds):
            yield
