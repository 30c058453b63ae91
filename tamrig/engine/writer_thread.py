"""The writer thread: a point's live fit and storage run while the next point is set up.

One-deep hand-over: the engine submits point n and goes on moving the stage (and the other
axes) for point n + 1; before the camera integrates for n + 1 it calls :meth:`wait`, which
returns once n is flushed, or raises the error n met. So at most one measured point is ever
waiting for the disk -- the one a kill can lose, and that ``--resume`` measures again -- and
a storage error stops the scan before another point is measured, naming its point.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Job = Callable[[], None]
JOIN_TIMEOUT_S = 2.0


class WriterThread:
    """Runs submitted jobs one at a time on a daemon thread, at most one outstanding."""

    def __init__(self, name: str = "tamrig-writer") -> None:
        self._cond = threading.Condition()
        self._job: Job | None = None
        self._busy = False
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Hand ``job`` over once the previous one is done (raising that one's error)."""
        self.wait()
        with self._cond:
            if self._closed:
                raise RuntimeError("the writer thread is closed")
            self._job = job
            self._busy = True
            self._cond.notify_all()

    def wait(self) -> None:
        """Block until the job handed over is done; raise its error, if any (once)."""
        error = self.drain()
        if error is not None:
            raise error

    def drain(self) -> BaseException | None:
        """Block until idle and return (not raise) the pending error: for the ways out of
        a scan (pause, abort, fault), where another error is already being handled."""
        with self._cond:
            self._cond.wait_for(lambda: not self._busy)
            error, self._error = self._error, None
        return error

    def close(self) -> BaseException | None:
        """Let the last job finish, stop the thread; returns that job's error, if any."""
        error = self.drain()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            # Bounded: a second Ctrl-C landing just as this thread took the lock can leave
            # it held, and the idle (daemon) writer could then never wake up to exit.
            self._thread.join(timeout=JOIN_TIMEOUT_S)
        return error

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._closed)
                job, self._job = self._job, None
            if job is None:
                return
            error: BaseException | None = None
            try:
                job()
            except BaseException as exc:  # handed to the engine's thread
                error = exc
            with self._cond:
                self._error = error
                self._busy = False
                self._cond.notify_all()
