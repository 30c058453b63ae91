"""Render the operator window on the simulated rig, mid-scan, to a PNG (needs an X server).

    xvfb-run -a -s "-screen 0 1680x1050x24" python tools/screenshot_main_window.py OUT.png

Starts the live camera, runs the demo plan through the GUI's run control and grabs the
window once ``--points`` points are done (OUT.png: the live views, OUT-analysis.png: the
transport plots), then aborts the scan. Prints the live-view rates it measured: camera
frames read vs frames drawn per second, before and during the scan.
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


def grab(window: object, path: Path) -> None:
    from PyQt6.QtWidgets import QWidget

    assert isinstance(window, QWidget)
    pixmap = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path} ({pixmap.width()}x{pixmap.height()})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--points", type=int, default=12, help="scan points before the grab")
    parser.add_argument("--time-scale", type=float, default=0.2, help="simulated time scale")
    parser.add_argument(
        "--plan", type=Path, default=REPO / "config" / "scans" / "demo.toml", help="scan plan"
    )
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

    # a scan through the run control: the live view stops, the engine takes the camera
    panel = window.scan_panel
    if not panel.builder.load(args.plan):
        raise SystemExit(f"plan {args.plan} has errors: {panel.builder.errors}")
    out_dir = Path(tempfile.mkdtemp(prefix="tamrig-shot-data-"))
    panel.run_control.output.setText(str(out_dir / "scan.h5"))
    if not panel.start():
        raise SystemExit("the scan did not start")

    def points_done() -> int:
        return sum(type(e).__name__ == "PointDone" for e in panel.events)

    wait_until(app, lambda: points_done() >= 1, 120, "the first scan point")
    t0, drawn0 = time.monotonic(), window.camera_view.frames_drawn
    seen0, dtt0 = panel.playback.frames_seen, window.dtt_view.images_drawn
    wait_until(app, lambda: points_done() >= args.points, 600, f"{args.points} scan points")
    dt = time.monotonic() - t0
    drawn = window.camera_view.frames_drawn - drawn0
    seen = panel.playback.frames_seen - seen0
    dtt = window.dtt_view.images_drawn - dtt0
    print(
        f"during the scan: engine read {seen / dt:.0f} frames/s "
        f"({panel.playback.blocks_seen} blocks); camera view drew {drawn / dt:.1f} frames/s, "
        f"ΔT/T view {dtt / dt:.1f} images/s; {points_done()} points in {dt:.1f} s"
    )
    window.tabs.setCurrentIndex(0)
    wait_until(app, lambda: True, 1, "")
    grab(window, args.out)
    window.tabs.setCurrentWidget(window.analysis)
    wait_until(app, lambda: True, 1, "")
    grab(window, args.out.with_name(args.out.stem + "-analysis.png"))
    panel.abort()
    wait_until(app, lambda: panel.run_control.state == "idle", 120, "the abort")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
