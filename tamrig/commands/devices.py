"""``tamrig devices``: connect a rig and show each device's identity and state."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tamrig.errors import EXIT_OK, DeviceFault


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rig", help="rig file (default: the simulated rig)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from tamrig.rig import build_rig

    rig = build_rig(args.rig)
    rows: list[dict[str, Any]] = []
    with rig:
        for role, device in rig.devices.items():
            try:
                identity = device.identify()
                state = device.status()
            except DeviceFault as exc:
                identity, state = "?", {"error": exc.detail}
            rows.append({"role": role, "kind": device.family, "identity": identity, "state": state})
    if args.json:
        print(
            json.dumps(
                {"rig": rig.settings.name, "file": rig.loaded.path, "devices": rows}, indent=2
            )
        )
        return EXIT_OK
    table = Table(title=f"{rig.settings.name}  ({rig.loaded.path})")
    for column in ("role", "family", "identity", "state"):
        table.add_column(column)
    for row in rows:
        text = ", ".join(f"{k}={v}" for k, v in row["state"].items())
        table.add_row(str(row["role"]), str(row["kind"]), str(row["identity"]), text)
    Console(width=160).print(table)
    return EXIT_OK
