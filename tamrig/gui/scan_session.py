"""One scan run in its own thread: prepare (pre-flight, calibration, data file), then run.

The engine knows no Qt. It calls our subscriber from its thread; the subscriber only emits a
signal, which Qt queues to the GUI thread, so the engine never waits for a redraw. While the
session runs, the GUI's device workers only read back (``RigAccess.claim_for_scan``); the
camera is watched through the engine's ``BlockAcquired`` events, which only leave the
newest frame in a :class:`~tamrig.gui.frames.LatestFrame` (no signal per block).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from tamrig.engine import BlockAcquired, ScanEvent
from tamrig.engine.session import Scan, start_scan
from tamrig.errors import DeviceFault, InputError
from tamrig.gui.frames import LatestFrame
from tamrig.gui.rigaccess import RigAccess
from tamrig.plan import ScanPlan

log = logging.getLogger(__name__)


class _ScanThread(QThread):
    def __init__(self, session: ScanSession) -> None:
        super().__init__()
        self.setObjectName("scan")
        self.session = session

    def run(self) -> None:
        self.session._run_in_thread()


class ScanSession(QObject):
    #: an engine event dataclass (ScanStarted, PointDone, Paused, ..., Fault, Finished)
    engine_event = pyqtSignal(object)
    #: the plan was refused before anything moved (PlanError naming the field)
    rejected = pyqtSignal(object)
    #: the run is over: (error text or "", safe-state report)
    ended = pyqtSignal(str, str)

    def __init__(
        self,
        access: RigAccess,
        plan: ScanPlan,
        out: str | Path,
        *,
        overwrite: bool = False,
        prepare: Callable[..., Scan] = start_scan,
        engine_options: dict[str, Any] | None = None,
        frames: LatestFrame | None = None,
    ) -> None:
        super().__init__()
        self.frames = frames
        self.access = access
        self.plan = plan
        self.out = Path(out)
        self.overwrite = overwrite
        self.prepare = prepare
        self.engine_options = {"fault_policy": "pause", **(engine_options or {})}
        self.scan: Scan | None = None
        self.error = ""
        self._lock = threading.Lock()
        self._abort_requested = False
        self.runner = _ScanThread(self)
        self.runner.finished.connect(self._on_finished)

    @property
    def running(self) -> bool:
        return self.runner.isRunning()

    def start(self) -> None:
        self.access.claim_for_scan()
        self.runner.start()

    # -- control (GUI thread; the engine's methods are thread-safe) ------------------------
    def pause(self) -> None:
        if self.scan is not None:
            self.scan.engine.pause()

    def resume(self) -> None:
        if self.scan is not None:
            self.scan.engine.resume()

    def abort(self) -> None:
        with self._lock:
            self._abort_requested = True
            scan = self.scan
        if scan is not None:
            scan.engine.abort()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return bool(self.runner.wait(timeout_ms))

    # -- scan thread -----------------------------------------------------------------------
    def _run_in_thread(self) -> None:
        try:
            scan = self.prepare(
                self.plan,
                out=self.out,
                rig=self.access.rig,
                overwrite=self.overwrite,
                subscribers=[self._deliver],
                **self.engine_options,
            )
        except InputError as exc:
            self.rejected.emit(exc)
            return
        except Exception as exc:
            log.exception("scan could not start")
            self.error = str(exc) or type(exc).__name__
            return
        with self._lock:
            self.scan = scan
            if self._abort_requested:
                scan.engine.abort()
        try:
            scan.run()
        except Exception as exc:  # reported to the operator through `ended`
            log.warning("scan ended with an error: %s", exc)
            self.error = str(exc) or type(exc).__name__
        finally:
            scan.close()

    def _deliver(self, event: ScanEvent) -> None:
        """Engine thread: frames to the frame slot, everything else to the GUI thread."""
        if isinstance(event, BlockAcquired):
            if self.frames is not None:
                self.frames.offer(event.block, "scan")
            return
        self.engine_event.emit(event)

    def _on_finished(self) -> None:
        report = self.verify_safe_state()
        self.access.release_from_scan()
        self.ended.emit(self.error, report)

    def verify_safe_state(self) -> str:
        """Read the pump shutter back after the run; say what state the rig is in."""
        with self.access.holding():
            rig = self.access.rig
            try:
                if rig.pump_shutter.is_open():
                    rig.safe_state()
                still_open = rig.pump_shutter.is_open()
            except DeviceFault as exc:
                return f"SAFE STATE NOT CONFIRMED ({exc}) — block the pump beam by hand"
        if still_open:
            return "PUMP SHUTTER STILL OPEN — block the pump beam by hand"
        return "rig in safe state: pump shutter closed (read back)"
