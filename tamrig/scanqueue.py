"""A queue of scan plans run one after the other, each into its own file, for an overnight
fluence series. No Qt: the ``tamrig queue`` command and the operator window share it.

The queue lives in ``OUT_DIR/queue.json`` (plan path, data file, status of each entry),
written after every change, so a restart — of the window or of the command — carries on
where it stopped: finished entries are skipped, an interrupted one resumes in its file
(only its missing points are measured), the rest start in order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tamrig.errors import InputError

STATE_FILE = "queue.json"
#: statuses an entry can have; "running" in the file means the run was cut short
STATUSES = ("pending", "running", "finished", "aborted", "fault", "error")


@dataclass
class QueueEntry:
    plan: str  # plan file (absolute)
    out: str  # data file (absolute)
    status: str = "pending"
    message: str = ""

    @property
    def done(self) -> bool:
        return self.status == "finished"


class ScanQueue:
    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir).resolve()
        self.entries: list[QueueEntry] = []
        self.path = self.out_dir / STATE_FILE
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = [QueueEntry(**item) for item in data["entries"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"unreadable queue state ({exc})",
                file=self.path,
                expected="the queue.json a previous `tamrig queue` wrote (or remove it)",
            ) from None
        for entry in entries:
            if entry.status not in STATUSES:
                raise InputError(
                    f"unknown status {entry.status!r}",
                    file=self.path,
                    field="entries.status",
                    expected=", ".join(STATUSES),
                )
        self.entries = entries

    def save(self) -> None:
        """Write the state atomically (a crash leaves the old or the new file, never half)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        text = json.dumps({"entries": [asdict(e) for e in self.entries]}, indent=1)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)

    def add(self, plan: str | Path, *, again: bool = False) -> QueueEntry:
        """Queue ``plan``. Already queued: that entry is kept (a restarted series does not
        measure a finished plan again), unless ``again`` asks for one more run of it."""
        plan_path = str(Path(plan).resolve())
        for entry in self.entries:
            if entry.plan == plan_path and not again:
                return entry
        taken = {Path(e.out).name for e in self.entries}
        stem, n = Path(plan_path).stem, 1
        name = f"{stem}.h5"
        while name in taken or (self.out_dir / name).exists():
            n += 1
            name = f"{stem}-{n}.h5"
        entry = QueueEntry(plan=plan_path, out=str(self.out_dir / name))
        self.entries.append(entry)
        self.save()
        return entry

    def remove(self, index: int) -> None:
        if self.entries[index].status == "running":
            raise ValueError("the running entry cannot be removed")
        del self.entries[index]
        self.save()

    def next_entry(self) -> QueueEntry | None:
        """The first entry still to measure (an interrupted one first of all)."""
        return next((e for e in self.entries if not e.done and e.status != "error"), None)

    def mark(self, entry: QueueEntry, status: str, message: str = "") -> None:
        entry.status, entry.message = status, message
        self.save()

    def summary(self) -> str:
        counts = {s: sum(e.status == s for e in self.entries) for s in STATUSES}
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def open_entry(
    entry: QueueEntry, rig: Any, subscribers: Iterable[Callable[[Any], None]] = (), **options: Any
) -> Any:
    """The scan of ``entry``: resumed in its file if one was started, else started afresh."""
    from tamrig.engine.session import resume_scan, start_scan
    from tamrig.plan import load_plan

    if Path(entry.out).exists():
        return resume_scan(entry.out, rig=rig, subscribers=subscribers, **options)
    return start_scan(
        load_plan(entry.plan), out=entry.out, rig=rig, subscribers=subscribers, **options
    )
