"""A whole campaign in order: find, group, skip what the cache holds, analyse the rest in
parallel, then write the table, the trends and the figures into the report folder."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tamrig.campaign import discovery, execution, figures, table
from tamrig.campaign.adapter import CampaignSettings
from tamrig.campaign.hashing import ResultCache, series_key, settings_digest
from tamrig.campaign.task import analyse_series_task, series_spec

CACHE_FOLDER = ".campaign-cache"


@dataclass
class CampaignResult:
    table: pd.DataFrame
    trends: dict[str, Any]
    files: list[Path]  # everything written into the report folder
    notes: list[str]
    n_files: int
    n_series: int
    n_cached: int  # series taken from the cache (same content, same settings)
    n_analysed: int
    n_failed: int
    curves: dict[str, dict[str, list[float]]] = field(repr=False, default_factory=dict)


def run_campaign(
    patterns: Iterable[str | Path],
    report: str | Path,
    *,
    settings: CampaignSettings | None = None,
    client: Any | None = None,
    cluster: Callable[[], AbstractContextManager[Any]] | None = None,
    x_property: str | None = None,
    on_progress: execution.OnProgress | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    draw: bool = True,
) -> CampaignResult:
    """Analyse every series of the scan files matched by ``patterns`` into ``report``.

    ``client``: a dask.distributed Client (None: this process, sequentially); or
    ``cluster``: a factory of one (a context manager), entered only when some series needs
    analysing, so a re-run with everything cached starts no workers. ``on_plan``
    hears (series to analyse, series in the cache) before the work starts. ``draw`` False:
    table and trends only, no figures.
    """
    cfg = settings or CampaignSettings()
    folder = Path(report)
    files = discovery.find_scan_files(patterns, exclude=folder)
    infos: list[discovery.ScanInfo] = []
    rows: list[dict[str, Any]] = []
    for path in files:
        found = discovery.describe(path)
        if isinstance(found, discovery.FileProblem):
            rows.append(_problem_row(path, found.error))
        elif not found.series:
            rows.append(_problem_row(path, f"{path}: no completed points", found.sample))
        else:
            infos.append(found)
    cache = ResultCache(folder / CACHE_FOLDER)
    hashes = {info.path: cache.content_hash(info.path) for info in infos}
    cache.save_index()
    digest = settings_digest(cfg.to_dict())
    todo: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}
    groups = discovery.group_series(infos)
    for group in groups:
        key = series_key(
            digest,
            ((str(m.path), hashes[m.path], m.probe_nm, m.fluence_label) for m in group.members),
        )
        stored = cache.get(key)
        if stored is not None:
            results[key] = stored
        else:
            todo.append(series_spec(key, group, hashes, cfg))
    n_cached = len(results)
    if on_plan is not None:
        on_plan(len(todo), n_cached)

    def keep(spec: dict[str, Any], result: dict[str, Any]) -> None:
        results[spec["key"]] = result
        if result["row"]["status"] == "ok":
            cache.put(spec["key"], result)

    progress = None
    if on_progress is not None:
        progress = _offset(on_progress, n_cached)
    if todo and client is None and cluster is not None:
        with cluster() as started:
            execution.run_tasks(
                analyse_series_task, todo, client=started, on_result=keep, on_progress=progress
            )
    else:
        execution.run_tasks(
            analyse_series_task, todo, client=client, on_result=keep, on_progress=progress
        )
    rows += [r["row"] for r in results.values()]
    frame = table.build_table(rows)
    written = table.write_table(frame, folder)
    x_name = table.x_property(frame, x_property)
    notes: list[str] = []
    if x_property and x_name is None:
        notes.append(f"x axis: no sample records {x_property!r}; figure against it skipped")
    trends = table.trends(frame, x_name)
    curves = {k: r.get("curves", {}) for k, r in results.items()}
    figs, fig_notes = figures.write_figures(frame, curves, folder, x_name) if draw else ([], [])
    notes += fig_notes
    trends["notes"] = notes
    trends_path = folder / "trends.json"
    trends_path.write_text(json.dumps(trends, indent=2, default=_plain))
    failed = int((frame["status"] == "error").sum()) if not frame.empty else 0
    return CampaignResult(
        table=frame,
        trends=trends,
        files=[*written, trends_path, *figs],
        notes=notes,
        n_files=len(files),
        n_series=len(groups),
        n_cached=n_cached,
        n_analysed=len(todo),
        n_failed=failed,
        curves=curves,
    )


def _offset(on_progress: execution.OnProgress, cached: int) -> execution.OnProgress:
    def report(done: int, running: int, failed: int) -> None:
        on_progress(done + cached, running, failed)

    return report


def _problem_row(path: Path, error: str, sample: str = "") -> dict[str, Any]:
    return {
        "sample": sample,
        "probe_wavelength_nm": math.nan,
        "n_abs": math.nan,
        "fluence_uj_cm2": math.nan,
        "fluence_label": "",
        "files": str(path),
        "status": "error",
        "error": error,
    }


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
