"""Responsiveness and memory of the operator window (offscreen Qt, simulated rig).

A 10 ms QTimer probe runs in the GUI thread; each late tick is an event-loop stall (the
time the loop could not answer a click or a repaint). Three phases, window 1920×1080:

* ``idle``: the window open, nothing running (a baseline: the machine's own stalls);
* ``scan``: the demo plan through the window's own run control, simulated time running
  1 / ``--scan-scale`` times faster than real time (more events per second than an
  operator will ever see);
* ``alignment``: live camera + running ΔT/T with its fit, pump on the sample; also the rate
  at which the ΔT/T view is redrawn (target ≥ 20 per second);
* ``memory``: a ``--points`` point scan (small ROI pairs, time scale 0: as fast as the
  engine goes), RSS sampled every 100 points after a garbage collection.

Prints p50 / p99 / max stall per phase (target p99 < 50 ms) and the RSS growth between
the first and last sample (target: flat). Nothing is asserted.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--seconds 20] [--points 1000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIM_RIG = ROOT / "config" / "rigs" / "simulated.toml"
PROBE_MS = 10


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class StallProbe:
    """Records how late each tick of a 10 ms timer arrives, the process's CPU time over the
    same span (on a loaded machine a stall can be the scheduler's, not the window's), and
    the time the window's display clock spent drawing."""

    def __init__(self) -> None:
        from PyQt6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.stalls_ms: list[float] = []
        self._last = 0.0

    def start(self, clock: object = None) -> None:
        self.stalls_ms.clear()
        self.clock = clock
        self._draw0 = (clock.ticks, clock.busy_s, clock.max_s) if clock is not None else None  # type: ignore[attr-defined]
        self._cpu0, self._wall0 = time.process_time(), time.perf_counter()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.cpu = (time.process_time() - self._cpu0) / (time.perf_counter() - self._wall0)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.stalls_ms.append(max(0.0, (now - self._last) * 1e3 - PROBE_MS))
        self._last = now

    def summary(self) -> str:
        import numpy as np

        s = np.asarray(self.stalls_ms)
        if s.size == 0:
            return "no ticks"
        text = (
            f"stall p50 {np.percentile(s, 50):.1f} ms, p99 {np.percentile(s, 99):.1f} ms, "
            f"max {s.max():.0f} ms over {s.size} ticks; process CPU {100 * self.cpu:.0f} % "
            "of one core"
        )
        clock = self.clock
        if clock is not None and self._draw0 is not None:
            ticks = clock.ticks - self._draw0[0]  # type: ignore[attr-defined]
            busy = clock.busy_s - self._draw0[1]  # type: ignore[attr-defined]
            text += (
                f"; display clock {ticks} ticks, drawing {1e3 * busy / max(ticks, 1):.1f} ms "
                f"per tick (longest {1e3 * clock.max_s:.0f} ms)"  # type: ignore[attr-defined]
            )
        return text


def run_until(condition: Callable[[], bool], timeout_s: float) -> None:
    from PyQt6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.001)


def window(scale: float, size: tuple[int, int] = (1920, 1080)) -> object:
    """The window at 1920×1080 on the simulated rig; the camera delivers single exposures
    (200 frames/s, as an alignment camera runs), not the rig file's on-camera sums."""
    from tamrig.gui.app import connect_rig
    from tamrig.gui.main_window import MainWindow
    from tamrig.gui.settings import GuiSettings

    overrides = {"time_scale": scale, "camera_accumulate": 1}
    win = MainWindow(connect_rig(SIM_RIG, overrides), settings=GuiSettings())
    win.resize(*size)
    win.show()
    run_until(lambda: "camera" in win.last_states, 30)
    return win


def scan_phase(seconds: float, scale: float, out: Path) -> None:
    win: object = window(scale)
    panel = win.scan_panel  # type: ignore[attr-defined]
    panel.builder.load(ROOT / "config" / "scans" / "demo.toml")
    panel.run_control.output.setText(str(out / "scan.h5"))
    panel.start()
    run_until(lambda: panel.counts["PointDone"] >= 1, 120)
    probe = StallProbe()
    n0, t0 = panel.counts["PointDone"], time.monotonic()
    probe.start(win.clock)  # type: ignore[attr-defined]
    run_until(lambda: time.monotonic() - t0 > seconds or not panel.running, seconds + 5)
    probe.stop()
    dt = time.monotonic() - t0
    points = panel.counts["PointDone"] - n0
    drawn = win.camera_view.frames_drawn  # type: ignore[attr-defined]
    print(
        f"scan      ({points / dt:.1f} points/s, camera view {drawn / dt:.0f} draws/s): "
        f"{probe.summary()}"
    )
    panel.abort()
    run_until(lambda: not panel.running, 120)
    win.close()  # type: ignore[attr-defined]


def idle_phase(seconds: float) -> None:
    """The same probe with the window open and nothing running: the machine's own stalls."""
    win: object = window(1.0)
    probe = StallProbe()
    t0 = time.monotonic()
    probe.start(win.clock)  # type: ignore[attr-defined]
    run_until(lambda: time.monotonic() - t0 > seconds, seconds + 5)
    probe.stop()
    print(f"idle      (window open, nothing running): {probe.summary()}")
    win.close()  # type: ignore[attr-defined]


def alignment_phase(seconds: float) -> None:
    win: object = window(1.0)
    rig = win.rig  # type: ignore[attr-defined]
    panels = win.panels  # type: ignore[attr-defined]
    win.submit("stage: go to 300 fs", lambda r: r.set_delay_fs(300.0))  # type: ignore[attr-defined]
    panels["probe_shutter"].open_button.click()
    win.set_live(True)  # type: ignore[attr-defined]
    run_until(lambda: panels["pump_shutter"].open_button.isEnabled(), 30)
    panels["pump_shutter"].open_button.click()
    run_until(lambda: rig.pump_shutter.is_open(), 30)
    win.live_dtt_box.setChecked(True)  # type: ignore[attr-defined]
    view = win.dtt_view  # type: ignore[attr-defined]
    run_until(lambda: view.images_drawn >= 3, 60)
    probe = StallProbe()
    d0, c0, t0 = view.images_drawn, win.camera_view.frames_drawn, time.monotonic()  # type: ignore[attr-defined]
    probe.start(win.clock)  # type: ignore[attr-defined]
    run_until(lambda: time.monotonic() - t0 > seconds, seconds + 5)
    probe.stop()
    dt = time.monotonic() - t0
    dtt = (view.images_drawn - d0) / dt
    cam = (win.camera_view.frames_drawn - c0) / dt  # type: ignore[attr-defined]
    print(f"alignment (ΔT/T {dtt:.1f} fps with fit, camera {cam:.1f} fps): {probe.summary()}")
    win.close()  # type: ignore[attr-defined]


def memory_phase(n_points: int, out: Path) -> None:
    from tamrig.plan import plan_from_dict

    win: object = window(0.0)
    panel = win.scan_panel  # type: ignore[attr-defined]
    plan = {
        "name": "memory",
        "sample": {"cross_section_cm2": 9.6e-16, "pump_sigma_nm": 141.0},
        "delays": {
            "segments": [
                {"kind": "log", "start": 0.1, "stop": 1000, "count": n_points, "unit": "ps"}
            ]
        },
        "fluence": {"unit": "n_abs", "values": [0.09]},
        "probe": {"wavelengths_nm": [905.0]},
        "acquisition": {"pairs_per_point": 8, "block_frames": 16, "dark_frames": 4},
    }
    plan_from_dict(plan)  # fails here, not in the window, if the plan is wrong
    panel.builder.set_plan_dict(plan)
    panel.run_control.output.setText(str(out / "memory.h5"))
    samples: list[tuple[int, float]] = []

    def sample(ev: object) -> None:
        done = ev.done  # type: ignore[attr-defined]
        if done % 100 == 0:
            gc.collect()
            samples.append((done, rss_mib()))

    panel.point_done.connect(sample)
    probe = StallProbe()
    probe.start(win.clock)  # type: ignore[attr-defined]
    t0 = time.monotonic()
    panel.start()
    run_until(lambda: panel.status is not None and not panel.running, 3600)
    probe.stop()
    dt = time.monotonic() - t0
    first, last = samples[0], samples[-1]
    print(
        f"memory    ({panel.counts['PointDone']} points in {dt:.0f} s): RSS {first[1]:.0f} MiB "
        f"after {first[0]} points, {last[1]:.0f} MiB after {last[0]} "
        f"({last[1] - first[1]:+.1f} MiB); {probe.summary()}"
    )
    print("          RSS by points: " + ", ".join(f"{n}: {m:.0f}" for n, m in samples))
    win.close()  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each probe")
    parser.add_argument("--scan-scale", type=float, default=0.2, help="simulated time scale")
    parser.add_argument("--points", type=int, default=1000, help="points of the memory scan")
    parser.add_argument(
        "--phases",
        nargs="+",
        default=["idle", "scan", "alignment", "memory"],
        help="what to run",
    )
    args = parser.parse_args(argv)

    from PyQt6.QtCore import QSettings

    from tamrig.gui.app import application
    from tamrig.process import tune

    tune()
    app = application()  # noqa: F841 (kept alive)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="tg-")
    )
    out = Path(tempfile.mkdtemp(prefix="tamrig-bench-gui-"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if "idle" in args.phases:
        idle_phase(args.seconds)
    if "scan" in args.phases:
        scan_phase(args.seconds, args.scan_scale, out)
    if "alignment" in args.phases:
        alignment_phase(args.seconds)
    if "memory" in args.phases:
        memory_phase(args.points, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
