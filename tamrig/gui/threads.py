"""A QObject worker living in its own QThread, with a synchronous, ordered shutdown."""

from __future__ import annotations

from PyQt6.QtCore import QMetaObject, QObject, Qt, QThread


class WorkerThread:
    """Owns ``worker`` and the thread it runs in.

    The worker must define the slots ``setup`` (called in its thread once it starts) and
    ``teardown`` (called, blocking the caller, before the thread stops).
    """

    def __init__(self, worker: QObject, name: str) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.setup)  # type: ignore[attr-defined]

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Run the worker's teardown in its thread, then stop the thread; True if it ended."""
        if not self.thread.isRunning():
            return True
        QMetaObject.invokeMethod(
            self.worker, "teardown", Qt.ConnectionType.BlockingQueuedConnection
        )
        self.thread.quit()
        return bool(self.thread.wait(timeout_ms))
