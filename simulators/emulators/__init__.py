"""Vendor-protocol emulators that the real drivers are tested against.

Each emulator speaks its instrument's byte protocol (framing, echo, prompts, binary
messages, error codes) over an in-process pyserial URL (``emu://KIND``, see
``protocol_emu``) or a TCP server on 127.0.0.1 (``socket://``, see ``server``).
"""

from __future__ import annotations

import importlib
from typing import Any

from simulators.emulators.base import Emulator

#: emu:// kind -> "module:Class".
EMULATORS: dict[str, str] = {
    "smc100": "simulators.emulators.smc100:SMC100Emulator",
    "sc10": "simulators.emulators.sc10:SC10Emulator",
    "fw102c": "simulators.emulators.fw102c:FW102CEmulator",
    "ell14": "simulators.emulators.ell14:ELL14Emulator",
    "kbd101": "simulators.emulators.apt:APTStageEmulator",
}

_registry: dict[str, Emulator] = {}


def create(kind: str, **options: Any) -> Emulator:
    """A fresh emulator of ``kind`` (one of :data:`EMULATORS`)."""
    try:
        target = EMULATORS[kind]
    except KeyError:
        raise ValueError(
            f"unknown emulator {kind!r}; expected one of {sorted(EMULATORS)}"
        ) from None
    module, _, cls = target.partition(":")
    factory = getattr(importlib.import_module(module), cls)
    emulator: Emulator = factory(**options)
    return emulator


def register(name: str, emulator: Emulator) -> None:
    """Make ``emulator`` reachable as ``emu://@name``."""
    _registry[name] = emulator


def unregister(name: str) -> None:
    _registry.pop(name, None)


def lookup(name: str) -> Emulator:
    try:
        return _registry[name]
    except KeyError:
        raise ValueError(f"no emulator registered as {name!r}") from None
