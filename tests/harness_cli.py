"""Run ``tamrig`` in-process and check what a user would see: exit code and message.

The fuzz and reliability tests call :func:`run_cli` many times per test (hypothesis), so the
CLI runs in this process with stdout/stderr captured, and any exception escaping
``tamrig.cli.main`` is reported as a traceback reaching the user.
"""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

#: ``<file>, field '<path>': ...`` as composed by tamrig.errors.InputError.
FIELD_RE = re.compile(r"field '([^']*)'")


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str
    #: formatted traceback if an exception escaped ``main`` (a bug: users must never see one)
    escaped: str | None = None

    @property
    def fields(self) -> list[str]:
        """Every field the error message names."""
        return FIELD_RE.findall(self.err)

    def describe(self) -> str:
        text = f"exit {self.code}\n--- stderr ---\n{self.err}\n--- stdout ---\n{self.out[-2000:]}"
        if self.escaped:
            text += f"\n--- escaped exception ---\n{self.escaped}"
        return text


def run_cli(argv: Sequence[str]) -> CliResult:
    """``tamrig <argv>`` in this process; SystemExit becomes the exit code."""
    from tamrig.cli import main

    out, err = io.StringIO(), io.StringIO()
    escaped = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            escaped = traceback.format_exc()
            code = -1
    return CliResult(code, out.getvalue(), err.getvalue(), escaped)


def related_fields(named: str, mutated: str) -> bool:
    """Whether the field a message names is the mutated one, inside it, or contains it.

    ``devices.stage`` relates to ``devices.stage.travel_mm[1]`` and vice versa, not to
    ``devices.stage_x``.
    """
    a, b = sorted((named, mutated), key=len)
    return b == a or a == "" or b.startswith(a + ".") or b.startswith(a + "[")
