"""Start the operator window on a rig (``tamrig gui``) and switch rigs on request."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtWidgets import QApplication, QMessageBox

from tamrig.errors import InputError, TamrigError
from tamrig.gui.settings import GuiSettings
from tamrig.rig import Rig, build_rig

log = logging.getLogger(__name__)


def application() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("tamrig")
    app.setOrganizationName("tamrig")
    return app


def connect_rig(
    path: str | Path | None,
    overrides: dict[str, Any] | None = None,
    *,
    strict: bool = False,
) -> Rig:
    """Build and connect a rig; ``overrides`` (the time scale) apply to simulated devices.

    On a rig without simulated devices they mean nothing: ``strict`` (the command line)
    refuses them before any port is opened; otherwise (switching rigs in the window) they
    are dropped with a log line.
    """
    rig = build_rig(path, overrides=overrides)
    if overrides and not rig.context.simulated:
        if strict:
            raise InputError(
                "--time-scale applies to simulated devices; this rig has none",
                file=rig.loaded.path,
                field="--time-scale",
                expected="a rig file with simulated devices, or no --time-scale",
            )
        log.info("%s has no simulated devices: the time scale does not apply", rig.loaded.path)
    rig.connect()
    return rig


class GuiController(QObject):
    """Holds the one main window; opening another rig replaces the window (and its rig)."""

    def __init__(
        self,
        rig: Rig,
        settings: GuiSettings,
        *,
        overrides: dict[str, Any] | None = None,
        interactive: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.overrides = overrides
        self.interactive = interactive
        self.window = self._make_window(rig)
        self.errors: list[str] = []

    def _make_window(self, rig: Rig) -> Any:
        from tamrig.gui.main_window import MainWindow

        self.settings.remember_rig(rig.loaded.path)
        window = MainWindow(rig, settings=self.settings)
        window.rig_requested.connect(self.open_rig)
        return window

    def open_rig(self, path: str) -> bool:
        """Close the current rig (safe state, ports released), then connect the new one.

        If the new rig cannot be connected, the previous one is reconnected and the error
        shown; the window never stays without a rig.
        """
        app = application()
        quit_on_close = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)
        old_path = self.window.rig.loaded.path
        self.window.close()
        try:
            try:
                rig = connect_rig(path, self.overrides)
                ok = True
            except TamrigError as exc:
                self.errors.append(str(exc))
                log.error("cannot open rig %s: %s", path, exc)
                rig = connect_rig(old_path, self.overrides)
                ok = False
            self.window = self._make_window(rig)
            self.window.show()
            if not ok and self.interactive:
                QMessageBox.critical(self.window, "Cannot open rig", self.errors[-1])
            return ok
        finally:
            app.setQuitOnLastWindowClosed(quit_on_close)


def run_gui(rig_path: str | Path | None, *, overrides: dict[str, Any] | None = None) -> int:
    """Connect the rig (errors propagate before any window opens), show the window, run."""
    app = application()
    controller = GuiController(
        connect_rig(rig_path, overrides, strict=True), GuiSettings(), overrides=overrides
    )
    controller.window.show()
    # Ctrl-C closes the window (and so leaves the rig safe) instead of killing Qt.
    previous = signal.signal(signal.SIGINT, lambda *_: controller.window.close())
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)  # lets Python run its signal handlers
    heartbeat.start(200)
    try:
        return int(app.exec())
    finally:
        heartbeat.stop()
        controller.window.shutdown()
        signal.signal(signal.SIGINT, previous)
