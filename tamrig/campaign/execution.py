"""Run the series tasks on Dask: local worker processes by default, or an existing cluster.

``workers=0`` runs every task in this process, one after the other (no Dask at all): a
baseline the tests compare the cluster's numbers against, and a way to debug a task.
Progress is reported as (done, running, failed) after every finished task.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

Task = Callable[[dict[str, Any]], dict[str, Any]]
#: called with (spec, result) as each task finishes
OnResult = Callable[[dict[str, Any], dict[str, Any]], None]
#: called with (done, running, failed)
OnProgress = Callable[[int, int, int], None]


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@contextmanager
def dask_client(
    scheduler: str | None = None, workers: int | None = None, *, processes: bool = True
) -> Iterator[Any]:
    """A dask.distributed Client: to ``scheduler`` if given, else on a LocalCluster of
    ``workers`` single-threaded worker processes (closed again on exit)."""
    from distributed import Client, LocalCluster

    # The scheduler and nannies report every worker start and stop at INFO: not news here.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or default_workers()
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # any free port: never clash with a running dashboard
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_tasks(
    task: Task,
    specs: Sequence[dict[str, Any]],
    *,
    client: Any | None = None,
    on_result: OnResult | None = None,
    on_progress: OnProgress | None = None,
) -> list[dict[str, Any]]:
    """Results of ``task`` for every spec, in the order of ``specs``.

    ``client`` None: in this process, sequentially. Results are handed to ``on_result`` as
    they arrive, so a caller can store each one at once (an interrupted campaign keeps them).
    """
    results: list[dict[str, Any] | None] = [None] * len(specs)
    failed = 0

    def finished(i: int, result: dict[str, Any], running: int) -> None:
        nonlocal failed
        results[i] = result
        if result.get("row", {}).get("status") == "error":
            failed += 1
        if on_result is not None:
            on_result(specs[i], result)
        if on_progress is not None:
            done = sum(r is not None for r in results)
            on_progress(done, running, failed)

    if on_progress is not None:
        on_progress(0, 0, 0)
    if client is None:
        for i, spec in enumerate(specs):
            if on_progress is not None:
                on_progress(i, 1, failed)
            finished(i, task(spec), 0)
    elif specs:
        from distributed import as_completed

        futures = client.map(task, list(specs), key=[f"series-{s['key']}" for s in specs])
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            result = future.result()
            finished(index[future.key], result, _running(client))
    return [r for r in results if r is not None]


def _running(client: Any) -> int:
    """Tasks the workers are busy with now (0 if the scheduler cannot be asked)."""
    try:
        return sum(len(keys) for keys in client.processing().values())
    except Exception:  # progress display only; never fail a campaign for it
        return 0
