"""Shared fixtures: the simulated rig with zero simulated time, temp rig files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SIM_RIG = REPO / "config" / "rigs" / "simulated.toml"


@pytest.fixture
def sim_rig_path() -> Path:
    return SIM_RIG


@pytest.fixture
def sim_rig() -> Iterator[object]:
    """A connected simulated rig (time scale 0, single exposures per camera frame)."""
    from tamrig.rig import build_rig

    with build_rig(SIM_RIG, overrides={"time_scale": 0.0, "camera_accumulate": 1}) as rig:
        yield rig


def write_variant(tmp_path: Path, old: str, new: str, name: str = "rig.toml") -> Path:
    """A copy of the simulated rig file with one text substitution."""
    text = SIM_RIG.read_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path
