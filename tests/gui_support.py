"""Fixtures shared by the GUI tests: QSettings in a temp dir and a window on the simulated rig."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PyQt6 import sip
from PyQt6.QtCore import QSettings

SIM_RIG = Path(__file__).resolve().parent.parent / "config" / "rigs" / "simulated.toml"


@pytest.fixture
def gui_settings(tmp_path: Path) -> Any:
    from tamrig.gui.settings import GuiSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    return GuiSettings()


@pytest.fixture
def window(qtbot: Any, gui_settings: Any) -> Iterator[Any]:
    """The main window on a connected simulated rig (time scale 0), closed safely after."""
    from tamrig.gui.main_window import MainWindow
    from tamrig.rig import build_rig

    rig = build_rig(SIM_RIG, overrides={"time_scale": 0.0})
    rig.connect()
    win = MainWindow(rig, settings=gui_settings, poll_interval_ms=50)
    win.show()
    qtbot.waitUntil(lambda: "stage" in win.last_states, timeout=10_000)
    yield win
    if not sip.isdeleted(win):
        win.close()
    assert not rig.pump_shutter.connected
