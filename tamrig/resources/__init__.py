"""Files that ship inside the tamrig package: example rigs and scan plans.

``rigs/simulated.toml`` is the default rig (every device simulated), ``rigs/emulated.toml``
the real drivers against the protocol emulators, ``rigs/lab-example.toml`` a real lab;
``scans/demo.toml`` is the demo scan and ``scans/template.toml`` the annotated plan to start
from. In a source checkout ``config/`` points here, so there is one copy of each file.
``tamrig init DIR`` writes editable copies of them into a folder of the user's choice.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
RIGS_DIR = RESOURCES_DIR / "rigs"
SCANS_DIR = RESOURCES_DIR / "scans"
DEFAULT_RIG = RIGS_DIR / "simulated.toml"


def is_shipped(path: str | Path) -> bool:
    """True for a file inside the installed package (not to be edited or written beside)."""
    return Path(path).resolve().is_relative_to(RESOURCES_DIR)


def examples() -> dict[str, list[Path]]:
    """The shipped example files by folder: ``{"rigs": [...], "scans": [...]}``."""
    return {folder.name: sorted(folder.glob("*.toml")) for folder in (RIGS_DIR, SCANS_DIR)}
