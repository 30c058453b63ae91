"""Deterministic fault injection for the simulated devices.

Faults come from the rig file (``[[simulation.faults]]`` tables) or from a test at run time
(``World.of(rig).faults.inject(device="stage", kind="stall")``). Each fault names a rig role,
a kind, optionally an operation, and *when* it fires: on the N-th call of that operation
(``on_call``, 1-based, ``times`` consecutive calls) or at random with ``probability`` per call,
drawn from the world's seeded random numbers, so a run with the same seed fails the same way.

Kinds and what the device does when one fires:

- ``timeout`` (all): waits ``delay_s`` of simulated time, then raises DeviceTimeout.
- ``garbage`` (all): raises DeviceProtocolError quoting the unparseable reply.
- ``disconnect`` (all): raises DeviceDisconnected, and so does every later call until the
  device is connected again.
- ``stall`` (stage, attenuator, wavelength selector): the move starts but never completes;
  waiting for it raises DeviceTimeout.
- ``stall_error`` (stage): the controller reports a stalled motor: DeviceStateError.
- ``stuck`` (shutters): the blade does not move; open/close raise DeviceStateError.
- ``drop_frames`` (camera): ``frames`` frames missing from the block (frame_id gaps,
  ``FrameBlock.dropped``).
- ``late_frames`` (camera): frames arrive ``delay_s`` late (timestamps jump); later than the
  read timeout -> DeviceTimeout.
- ``stream_stall`` (camera): no more frames; reads raise DeviceTimeout until the stream is
  stopped and started again.
- ``out_of_range`` (power meter): the reading is over range: DeviceStateError.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tamrig.devices import ROLES

FaultKind = Literal[
    "timeout",
    "garbage",
    "disconnect",
    "stall",
    "stall_error",
    "stuck",
    "drop_frames",
    "late_frames",
    "stream_stall",
    "out_of_range",
]

#: Operations each device family reports to the injector (the names a fault may target).
OPERATIONS: dict[str, tuple[str, ...]] = {
    "stage": ("connect", "position", "move", "wait"),
    "shutter": ("connect", "open", "close", "state"),
    "camera": ("connect", "configure", "start", "read"),
    "power_meter": ("connect", "configure", "read"),
    "attenuator": ("connect", "position", "move"),
    "wavelength_selector": ("connect", "position", "move"),
}

GENERIC_KINDS = ("timeout", "garbage", "disconnect")

#: Device-specific kinds: the families that have them and the one operation they act on.
SPECIFIC_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "stall": (("stage", "attenuator", "wavelength_selector"), "move"),
    "stall_error": (("stage",), "move"),
    "stuck": (("shutter",), "*"),
    "drop_frames": (("camera",), "read"),
    "late_frames": (("camera",), "read"),
    "stream_stall": (("camera",), "read"),
    "out_of_range": (("power_meter",), "read"),
}


class FaultSpec(BaseModel):
    """One fault: ``[[simulation.faults]]`` in a rig file, or ``faults.inject(...)``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    device: str = Field(description="rig role, e.g. 'stage' or 'pump_shutter'")
    kind: FaultKind
    operation: str = Field("*", description="operation to fail; '*' = any (see OPERATIONS)")
    on_call: int | None = Field(None, ge=1, description="fire on the N-th matching call")
    probability: float = Field(0.0, ge=0, le=1, description="chance per matching call")
    times: int | None = Field(1, ge=1, description="how many times it fires; None = always")
    frames: int = Field(1, ge=1, description="drop_frames: frames lost")
    delay_s: float = Field(1.0, ge=0, description="timeout wait / late_frames latency")

    @model_validator(mode="after")
    def _check(self) -> FaultSpec:
        if self.device not in ROLES:
            raise ValueError(f"device to be a rig role among {sorted(ROLES)}")
        family = ROLES[self.device].family
        ops = OPERATIONS[family]
        if self.operation != "*" and self.operation not in ops:
            raise ValueError(f"operation '*' or one of {list(ops)} for a {family}")
        if self.kind in SPECIFIC_KINDS:
            families, op = SPECIFIC_KINDS[self.kind]
            if family not in families:
                raise ValueError(f"kind {self.kind!r} only on {list(families)}, not a {family}")
            if op != "*" and self.operation not in ("*", op):
                raise ValueError(f"kind {self.kind!r} acts on operation {op!r}")
        if self.on_call is not None and self.probability > 0:
            raise ValueError("either on_call or probability, not both")
        return self

    def target_operation(self) -> str:
        """The operation this fault acts on ('*' = any)."""
        if self.kind in SPECIFIC_KINDS and self.operation == "*":
            return SPECIFIC_KINDS[self.kind][1]
        return self.operation


@dataclass(frozen=True)
class FiredFault:
    """A fault that fired: when (virtual s), where, and which specification."""

    time_s: float
    device: str
    operation: str
    call: int
    spec: FaultSpec


@dataclass
class _Armed:
    spec: FaultSpec
    offset: int  # calls of the target operation made before injection
    fired: int = 0

    def exhausted(self) -> bool:
        return self.spec.times is not None and self.fired >= self.spec.times


class FaultInjector:
    """Counts each device's calls per operation and decides, reproducibly, which fail.

    Thread-safe: a GUI thread may inject while a scan thread's devices are being checked.
    """

    def __init__(self, specs: list[FaultSpec], rng: np.random.Generator) -> None:
        self._lock = threading.Lock()
        self._rng = rng
        self._armed: list[_Armed] = []
        self._calls: Counter[tuple[str, str]] = Counter()
        self.log: list[FiredFault] = []
        for spec in specs:
            self.inject(spec)

    def inject(self, spec: FaultSpec | None = None, **fields: Any) -> FaultSpec:
        """Add a fault (a FaultSpec or its fields); returns the validated specification.

        ``on_call`` counts the calls made *after* injection, so ``on_call=1`` is the next one.
        """
        if spec is None:
            spec = FaultSpec.model_validate(fields)
        with self._lock:
            offset = self._count(spec.device, spec.target_operation())
            self._armed.append(_Armed(spec, offset))
        return spec

    def clear(self, device: str | None = None) -> None:
        """Remove every fault, or those of one device."""
        with self._lock:
            self._armed = [a for a in self._armed if device is not None and a.spec.device != device]

    @property
    def active(self) -> list[FaultSpec]:
        """Faults that may still fire."""
        with self._lock:
            return [a.spec for a in self._armed if not a.exhausted()]

    def calls(self, device: str, operation: str = "*") -> int:
        """How many times ``device`` has been asked to do ``operation`` so far."""
        with self._lock:
            return self._count(device, operation)

    def _count(self, device: str, operation: str) -> int:
        """Calls of one operation, or of any ('*'), counted so far (lock held)."""
        if operation != "*":
            return self._calls[(device, operation)]
        return sum(n for (name, _), n in self._calls.items() if name == device)

    def check(self, device: str, operation: str, now_s: float = 0.0) -> FaultSpec | None:
        """Record one call of ``operation`` on ``device``; return the fault that fires, if any."""
        return self.check_at(device, operation, lambda: now_s)

    def check_at(self, device: str, operation: str, clock: Callable[[], float]) -> FaultSpec | None:
        """:meth:`check`, asking ``clock`` for the time only when a fault fires (the devices'
        path: most calls fire nothing)."""
        with self._lock:
            self._calls[(device, operation)] += 1  # ('*' is their sum, counted when asked)
            return self._fire(device, operation, clock) if self._armed else None

    def _fire(self, device: str, operation: str, clock: Callable[[], float]) -> FaultSpec | None:
        """The armed fault that fires on this (already counted) call, if any."""
        for armed in self._armed:
            spec = armed.spec
            target = spec.target_operation()
            if armed.exhausted() or spec.device != device or target not in ("*", operation):
                continue
            if spec.probability > 0:
                fires = bool(self._rng.random() < spec.probability)
            else:
                fires = self._count(device, target) - armed.offset >= (spec.on_call or 1)
            if fires:
                armed.fired += 1
                call = self._calls[(device, operation)]
                self.log.append(FiredFault(clock(), device, operation, call, spec))
                return spec
        return None
