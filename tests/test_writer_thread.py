"""The engine's one-deep writer thread: order, hand-over, errors raised once, shutdown."""

from __future__ import annotations

import threading

import pytest

from tamrig.engine.writer_thread import WriterThread

WAIT_S = 60.0


def test_jobs_run_in_order_on_another_thread_one_at_a_time() -> None:
    lane = WriterThread()
    seen: list[tuple[int, str]] = []
    for k in range(5):
        lane.submit(lambda k=k: seen.append((k, threading.current_thread().name)))
    lane.wait()
    assert [k for k, _ in seen] == list(range(5))
    assert {name for _, name in seen} == {"tamrig-writer"}
    assert lane.close() is None


def test_submit_waits_for_the_job_before() -> None:
    lane = WriterThread()
    release = threading.Event()
    started = threading.Event()
    order: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(WAIT_S)
        order.append("first")

    lane.submit(slow)
    assert started.wait(WAIT_S)
    handed = threading.Event()

    def hand_over() -> None:
        lane.submit(lambda: order.append("second"))
        handed.set()

    other = threading.Thread(target=hand_over)
    other.start()
    assert not handed.wait(0.05)  # the second job waits while the first is running
    release.set()
    other.join(WAIT_S)
    lane.wait()
    assert order == ["first", "second"]
    lane.close()


def test_an_error_is_raised_once_by_the_next_wait_or_submit() -> None:
    lane = WriterThread()

    def fail() -> None:
        raise OSError("writing point 3 failed")

    lane.submit(fail)
    with pytest.raises(OSError, match="point 3"):
        lane.submit(lambda: None)  # not run: the error comes first
    lane.wait()  # raised once only
    lane.submit(fail)
    error = lane.drain()
    assert isinstance(error, OSError)
    assert lane.drain() is None
    lane.submit(fail)
    assert isinstance(lane.close(), OSError)
    with pytest.raises(RuntimeError, match="closed"):
        lane.submit(lambda: None)
