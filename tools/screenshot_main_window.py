"""Render the operator window's main views on the simulated rig to PNGs in docs/.

    QT_QPA_PLATFORM=offscreen python tools/screenshot_main_window.py [--out-dir docs]

For each window size (1366×768 and 1920×1080 by default) it writes
``gui-align-WxH.png`` (the alignment tab: frame on the sensor, ROI, fitted ΔT/T centre),
``gui-scan-WxH.png`` (the demo plan mid-scan: ΔT/T of the last point, D(t), safety line)
and ``gui-data-WxH.png`` (the data browser on the file that scan wrote). Look at them after
every change to the window: clipped labels, overlapping ticks and wasted space show there.
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

SIZES = ((1366, 768), (1920, 1080))


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    from PyQt6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out after {timeout_s} s waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.005)


def settle(seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() > end, seconds + 5, "the window to settle")


def grab(window: object, path: Path) -> None:
    from PyQt6.QtWidgets import QWidget

    assert isinstance(window, QWidget)
    pixmap = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path} ({pixmap.width()}x{pixmap.height()})")


def shoot(size: tuple[int, int], out_dir: Path, plan: Path, points: int, scale: float) -> None:
    from tamrig.gui.app import connect_rig
    from tamrig.gui.main_window import MainWindow
    from tamrig.gui.settings import GuiSettings

    w, h = size
    tag = f"{w}x{h}"
    rig = connect_rig(REPO / "config" / "rigs" / "simulated.toml", {"time_scale": scale})
    window = MainWindow(rig, settings=GuiSettings())
    window.resize(w, h)
    window.show()
    wait_until(lambda: "camera" in window.last_states, 20, "the first device poll")
    panel = window.scan_panel
    if not panel.builder.load(plan):
        raise SystemExit(f"plan {plan} has errors: {panel.builder.errors}")

    # alignment: probe and pump on the sample at 300 fs, running ΔT/T with its fit
    window.panels["probe_shutter"].open_button.click()
    window.submit("stage: go to 300 fs", lambda r: r.set_delay_fs(300.0))
    window.set_live(True)
    wait_until(lambda: window.panels["pump_shutter"].open_button.isEnabled(), 20, "live view")
    window.panels["pump_shutter"].open_button.click()
    wait_until(lambda: rig.pump_shutter.is_open(), 20, "the pump shutter")
    window.live_dtt_box.setChecked(True)
    wait_until(lambda: window.dtt_view.last_fit is not None, 60, "a live ΔT/T fit")
    window.tabs.setCurrentWidget(window.alignment_view)
    wait_until(lambda: window.alignment_view.frames_drawn >= 3, 30, "the alignment view")
    settle()
    grab(window, out_dir / f"gui-align-{tag}.png")
    window.tabs.setCurrentIndex(0)

    data = Path(tempfile.mkdtemp(prefix="tamrig-shot-data-")) / "demo.h5"
    panel.run_control.output.setText(str(data))
    if not panel.start():
        raise SystemExit("the scan did not start")
    wait_until(lambda: panel.counts["PointDone"] >= points, 600, f"{points} scan points")
    settle()
    grab(window, out_dir / f"gui-scan-{tag}.png")
    panel.abort()
    wait_until(lambda: panel.run_control.state == "idle", 120, "the abort")

    window.tabs.setCurrentWidget(window.data_tab)
    if not window.browser.open_file(data):
        raise SystemExit(f"the browser could not open {data}")
    window.browser.table.selectRow(min(8, window.browser.table.rowCount() - 1))
    settle()
    grab(window, out_dir / f"gui-data-{tag}.png")
    window.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs")
    parser.add_argument("--points", type=int, default=30, help="scan points before the grab")
    parser.add_argument("--time-scale", type=float, default=0.002, help="simulated time scale")
    parser.add_argument(
        "--plan", type=Path, default=REPO / "config" / "scans" / "demo.toml", help="scan plan"
    )
    args = parser.parse_args(argv)

    from PyQt6.QtCore import QSettings

    from tamrig.gui.app import application

    app = application()  # noqa: F841 (kept alive for the whole run)
    settings_dir = tempfile.mkdtemp(prefix="tamrig-shot-")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    for size in SIZES:
        shoot(size, args.out_dir, args.plan, args.points, args.time_scale)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
