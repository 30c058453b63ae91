"""Render the operator window on the simulated rig, mid-scan, to a PNG (needs an X server).

    xvfb-run -a -s "-screen 0 1680x1050x24" python tools/screenshot_main_window.py OUT.png

Starts the live camera, opens the pump shutter (interlocked on acquisition), runs the demo
plan through the GUI's run control and grabs the window once ``--points`` points are done.
Prints the live-view rates it measured (camera frames read vs frames drawn per second).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def wait_until(app: object, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    from PyQt6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out after {timeout_s} s waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--points", type=int, default=12, help="scan points before the grab")
    parser.add_argument("--time-scale", type=float, default=0.05, help="simulated time scale")
    parser.add_argument("--width", type=int, default=1680)
    parser.add_argument("--height", type=int, default=1020)
    args = parser.parse_args(argv)

    from PyQt6.QtCore import QSettings

    from tamrig.gui.app import application, connect_rig
    from tamrig.gui.main_window import MainWindow
    from tamrig.gui.settings import GuiSettings

    app = application()
    settings_dir = tempfile.mkdtemp(prefix="tamrig-shot-")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    rig = connect_rig(REPO / "config" / "rigs" / "simulated.toml", {"time_scale": args.time_scale})
    window = MainWindow(rig, settings=GuiSettings())
    window.resize(args.width, args.height)
    window.show()
    wait_until(app, lambda: "camera" in window.last_states, 20, "the first device poll")

    window.panels["probe_shutter"].open_button.click()
    window.set_live(True)
    wait_until(app, lambda: window.camera_view.frames_drawn >= 5, 20, "live frames")
    t0, read0, drawn0 = (
        time.monotonic(),
        window.camera_worker.frames_read,
        window.camera_view.frames_drawn,
    )
    wait_until(app, lambda: time.monotonic() - t0 > 2.0, 10, "live-view measurement")
    dt = time.monotonic() - t0
    read = window.camera_worker.frames_read - read0
    drawn = window.camera_view.frames_drawn - drawn0
    print(f"live view: camera {read / dt:.0f} frames/s read, {drawn / dt:.1f} frames/s drawn")

    window.tabs.setCurrentIndex(0)
    wait_until(app, lambda: True, 1, "")
    pixmap = window.grab()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(args.out)):
        raise SystemExit(f"could not write {args.out}")
    print(f"wrote {args.out} ({pixmap.width()}x{pixmap.height()})")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
