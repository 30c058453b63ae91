"""A QObject worker living in its own QThread, with a synchronous, ordered shutdown."""

from __future__ import annotations

from PyQt6.QtCore import QCoreApplication, QMetaObject, QObject, Qt, QThread, pyqtSlot


class ThreadWorker(QObject):
    """Base of the GUI's workers: ``setup`` runs in the worker thread when it starts;
    ``teardown`` stops the work and hands the worker (and its timers) back to the main
    thread, so Python can later delete them from there safely."""

    @pyqtSlot()
    def setup(self) -> None:
        """Create timers etc. in the worker thread."""

    def stop_work(self) -> None:
        """Stop timers and release devices (runs in the worker thread)."""

    @pyqtSlot()
    def teardown(self) -> None:
        self.stop_work()
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())


class WorkerThread:
    """Owns ``worker`` and the thread it runs in.

    ``worker.setup`` runs in the thread once it starts; ``worker.teardown`` runs there,
    blocking the caller, before the thread stops.
    """

    def __init__(self, worker: ThreadWorker, name: str) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.setup)

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
