"""The writer thread: a point's live fit and storage run while the next point is set up.

One-deep hand-over: the engine submits point n and goes on moving the stage (and the other
axes) for point n + 1; before the camera integrates for n + 1 it calls :meth:`wait`, which
returns once n is flushed, or raises the error n met. So at most one measured point is ever
waiting for the disk -- the one a kill can lose, and that ``--resume`` measures again -- and
a storage error stops the scan before another point is measured, naming its point.

The hand-over is a C-level job queue and a count of finished jobs with one wake-up per
job, not a Condition: no per-wait lock allocation or predicate calls, and a wait that a
Ctrl-C may interrupt at any moment without losing track (the count is the writer's, so a
wake-up taken by an interrupted wait is not needed again).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]
JOIN_TIMEOUT_S = 2.0
_STOP = None  # put on the job queue to end the thread


class WriterThread:
    """Runs submitted jobs one at a time on a daemon thread, at most one outstanding.

    ``submit``, ``wait``, ``drain`` and ``close`` belong to one thread at a time (the
    engine's); the jobs run on the writer's own thread.
    """

    def __init__(self, name: str = "tamrig-writer") -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._handed = 0  # jobs submitted (the engine's thread counts)
        self._done = 0  # jobs finished (the writer counts, after storing the error)
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Hand ``job`` over once the previous one is done (raising that one's error)."""
        if self._done != self._handed or self._error is not None:
            self.wait()  # (the engine usually waited already: no call then)
        if self._closed:
            raise RuntimeError("the writer thread is closed")
        wakeups = self._wakeups
        while not wakeups.empty():  # left by jobs that finished before anyone waited
            wakeups.get_nowait()
        self._handed += 1
        self._jobs.put(job)

    def wait(self) -> None:
        """Block until the job handed over is done; raise its error, if any (once)."""
        error = self.drain()
        if error is not None:
            raise error

    def drain(self) -> BaseException | None:
        """Block until idle and return (not raise) the pending error: for the ways out of
        a scan (pause, abort, fault), where another error is already being handled."""
        while self._done != self._handed:
            self._wakeups.get()
        error, self._error = self._error, None
        return error

    def close(self) -> BaseException | None:
        """Let the last job finish, stop the thread; returns that job's error, if any."""
        error = self.drain()
        if not self._closed:
            self._closed = True
            self._jobs.put(_STOP)
        if self._thread is not threading.current_thread():
            # Bounded, so a shutdown can never hang on the (daemon) writer.
            self._thread.join(timeout=JOIN_TIMEOUT_S)
        return error

    def _loop(self) -> None:
        jobs, wakeups = self._jobs, self._wakeups
        while True:
            job = jobs.get()
            if job is None:
                return
            error: BaseException | None = None
            try:
                job()
            except BaseException as exc:  # handed to the engine's thread
                error = exc
            del job  # the point's data is not kept alive until the next one arrives
            self._error = error
            self._done += 1
            wakeups.put(None)
