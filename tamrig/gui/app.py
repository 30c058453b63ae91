"""Start the operator window on a rig (``tamrig gui``)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from tamrig.gui.settings import GuiSettings
from tamrig.rig import build_rig


def application() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("tamrig")
    app.setOrganizationName("tamrig")
    return app


def run_gui(rig_path: str | Path | None, *, overrides: dict[str, Any] | None = None) -> int:
    """Connect the rig (errors propagate before any window opens), show the window, run."""
    from tamrig.gui.main_window import MainWindow

    app = application()
    rig = build_rig(rig_path, overrides=overrides)
    rig.connect()
    settings = GuiSettings()
    settings.remember_rig(rig.loaded.path)
    window = MainWindow(rig, settings=settings)
    window.show()
    # Ctrl-C / SIGTERM close the window (and so leave the rig safe) instead of killing Qt.
    previous = {s: signal.signal(s, lambda *_: window.close()) for s in (signal.SIGINT,)}
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)  # lets Python run its signal handlers
    heartbeat.start(200)
    try:
        return int(app.exec())
    finally:
        heartbeat.stop()
        window.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
