"""Device kinds → classes. tamrig never imports a concrete device: it resolves a rig file's
``kind`` string here, either a short name offered by a provider package (``simulators``,
``drivers``) or an explicit ``"package.module:Class"`` path for third-party devices."""

from __future__ import annotations

import importlib
from typing import Any

from tamrig.devices.base import Device

#: Modules that expose ``KINDS: dict[str, str]`` (short name -> "module:Class").
PROVIDERS = ("simulators.kinds", "drivers.kinds")


def available_kinds() -> dict[str, str]:
    """All short kind names and the class path each stands for."""
    kinds: dict[str, str] = {}
    for provider in PROVIDERS:
        try:
            module = importlib.import_module(provider)
        except ModuleNotFoundError:
            continue
        kinds.update(getattr(module, "KINDS", {}))
    return kinds


def _import_path(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def resolve_kind(kind: str) -> type[Device]:
    """The class for ``kind``; raises LookupError with the known names when unknown."""
    if ":" in kind:
        target = kind
    else:
        kinds = available_kinds()
        if kind not in kinds:
            raise LookupError(f"one of {sorted(kinds)} or 'package.module:Class'")
        target = kinds[kind]
    try:
        cls = _import_path(target)
    except (ImportError, AttributeError, ValueError, TypeError) as exc:
        # ValueError / TypeError: malformed module names such as ":Class" or ".relative:Class"
        raise LookupError(f"an importable device class ({exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, Device)):
        raise LookupError(f"a tamrig Device subclass, but {target} is not one")
    return cls
