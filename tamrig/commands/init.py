"""``tamrig init DIR``: editable copies of the example rigs and scan plans in a folder.

The shipped files live inside the installed package, which is not the place to edit them;
this puts ``rigs/*.toml`` and ``scans/*.toml`` where the user wants them. Existing files are
never replaced without ``--force``, and on a refusal nothing is written.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from tamrig.errors import EXIT_OK, InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="DIR", help="folder to write into")
    parser.add_argument("--force", action="store_true", help="replace files that exist")


def run(args: argparse.Namespace) -> int:
    from tamrig.resources import examples

    folder: Path = args.folder
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder")
    copies = [
        (source, folder / kind / source.name)
        for kind, sources in examples().items()
        for source in sources
    ]
    existing = [dest for _, dest in copies if dest.exists() or dest.is_symlink()]
    if existing and not args.force:
        names = ", ".join(str(p) for p in existing)
        raise InputError(f"{names}: exists already (use --force to replace)")
    try:
        for source, dest in copies:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the examples there: {exc}") from exc
    for _, dest in copies:
        print(dest)
    rig = folder / "rigs" / "simulated.toml"
    plan = folder / "scans" / "demo.toml"
    print(f"\nnext: tamrig devices --rig {rig}\n      tamrig scan {plan} --rig {rig} --out demo.h5")
    return EXIT_OK
