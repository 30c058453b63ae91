"""Exception hierarchy; each family maps to one CLI exit code (docs/architecture.md).

* :class:`InputError` -> exit 2: a rig file, plan or argument is wrong. The message names
  the file, the field and what was expected, so the user can fix it without a traceback.
* :class:`DeviceFault` -> exit 1: hardware misbehaved; the rig has been put in its safe state.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FAULT = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


class TamrigError(Exception):
    """Base of every error tamrig raises on purpose."""

    exit_code = EXIT_FAULT


class InputError(TamrigError):
    """Invalid user input: a file, a field in it, or a command-line argument."""

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.field = field
        self.expected = expected
        self.detail = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.field:
            where.append(f"field '{self.field}'")
        text = ": ".join([", ".join(where), self.detail]) if where else self.detail
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class ConfigError(InputError):
    """A rig file is invalid."""


class PlanError(InputError):
    """A scan plan is invalid or cannot run on this rig."""


class DeviceFault(TamrigError):
    """A device failed: timeout, garbage reply, disconnect, stall, vendor error code."""

    exit_code = EXIT_FAULT

    def __init__(self, device: str, message: str) -> None:
        self.device = device
        self.detail = message
        super().__init__(f"{device}: {message}")


class DeviceTimeout(DeviceFault):
    """The device did not answer (or finish) in time."""


class DeviceProtocolError(DeviceFault):
    """The device answered something that cannot be parsed."""


class DeviceDisconnected(DeviceFault):
    """The connection to the device was lost."""


class DeviceStateError(DeviceFault):
    """The device reported an error code or an unexpected state (stall, limit, interlock)."""


class InterlockError(TamrigError):
    """A safety interlock refused an action (e.g. pump shutter without acquisition)."""

    exit_code = EXIT_FAULT


class StorageError(TamrigError):
    """The data file cannot be written (disk full, read-only folder, existing file)."""

    exit_code = EXIT_FAULT
