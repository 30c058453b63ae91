"""The lifecycle every device shares, whatever its kind or whether it is real or simulated."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from tamrig.errors import DeviceFault

T = TypeVar("T")


class DeviceSettings(BaseModel):
    """Base of every device's rig-file table; unknown keys are errors (typos must not pass)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Device(abc.ABC):
    """A connected instrument with an identity, a settings snapshot and a safe state.

    Subclasses declare ``Settings`` (a :class:`DeviceSettings` model validated from the rig
    file) and implement the ``_``-prefixed hooks. Errors from a device are
    :class:`~tamrig.errors.DeviceFault` subclasses; :meth:`guard` records the last one so a GUI
    panel can show it.
    """

    Settings: ClassVar[type[DeviceSettings]] = DeviceSettings
    #: The interface family ("stage", "shutter", ...), set by each interface class.
    family: ClassVar[str] = "device"

    def __init__(self, name: str, settings: DeviceSettings | None = None) -> None:
        self.name = name
        self.settings = settings if settings is not None else self.Settings()
        self.connected = False
        self.last_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the connection and check the device answers."""
        self.guard(self._connect)
        self.connected = True

    def disconnect(self) -> None:
        """Release the connection; never raises so shutdown always completes."""
        if not self.connected:
            return
        try:
            self._disconnect()
        except Exception as exc:
            self.last_error = f"disconnect failed: {exc}"
        finally:
            self.connected = False

    def safe_state(self) -> None:
        """Put the device where nothing can be harmed (shutters closed, motion stopped)."""
        self.guard(self._safe_state)

    def identify(self) -> str:
        """Vendor, model, serial and firmware as the device reports them."""
        return self.guard(self._identify)

    def status(self) -> dict[str, Any]:
        """Current state for display (`tamrig devices`, GUI panels)."""
        return self.guard(self._status)

    def settings_snapshot(self) -> dict[str, Any]:
        """Everything needed to reproduce a measurement, written into every data file."""
        snap: dict[str, Any] = {
            "name": self.name,
            "family": self.family,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "settings": self.settings.model_dump(mode="json"),
        }
        if self.connected:
            try:
                snap["identity"] = self.identify()
                snap["status"] = self.status()
            except DeviceFault as exc:
                snap["error"] = str(exc)
        return snap

    def guard(self, action: Callable[[], T]) -> T:
        """Run ``action``, remembering the last device error for display; re-raises it."""
        try:
            result = action()
        except DeviceFault as exc:
            self.last_error = exc.detail
            raise
        return result

    def fault(self, message: str, kind: type[DeviceFault] = DeviceFault) -> DeviceFault:
        """Build a fault of this device (``raise self.fault(...)``)."""
        return kind(self.name, message)

    # -- hooks -----------------------------------------------------------------------------
    @abc.abstractmethod
    def _connect(self) -> None: ...

    @abc.abstractmethod
    def _disconnect(self) -> None: ...

    @abc.abstractmethod
    def _identify(self) -> str: ...

    @abc.abstractmethod
    def _status(self) -> dict[str, Any]: ...

    def _safe_state(self) -> None:
        """Default: nothing to do."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
