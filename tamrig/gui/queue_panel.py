"""The scan queue in the window: plans run one after the other, each into its own file.

The queue is :class:`tamrig.scanqueue.ScanQueue` (``DIR/queue.json``), the same state the
``tamrig queue`` command keeps, so it survives a restart of the window (the folder is
remembered in the settings) and a series started in the window can be finished from the
terminal. The form's plan is added as a copy in ``DIR/plans/``; the panel asks the scan
panel to run entry after entry and stops at the first one that does not finish.
"""

from __future__ import annotations

from pathlib import Path

import tomli_w
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tamrig.errors import InputError
from tamrig.gui.scan_builder import drop_none
from tamrig.plan import load_plan
from tamrig.scanqueue import QueueEntry, ScanQueue

SHOWN = {"running": "interrupted", "pending": "waiting"}


class QueuePanel(QGroupBox):
    #: run this entry: (plan, data file, resume)
    run_requested = pyqtSignal(object, object, bool)
    #: the queue folder changed (remembered by the window)
    folder_changed = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Queue", parent)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder for the queue's data files")
        self.folder.editingFinished.connect(lambda: self.open_folder(self.folder.text()))
        browse = QPushButton("…")
        browse.clicked.connect(self.choose_folder)
        top = QHBoxLayout()
        top.addWidget(self.folder, 1)
        top.addWidget(browse)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["plan", "status", "data file"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(90)
        header = self.table.horizontalHeader()
        assert header is not None
        header.setStretchLastSection(True)
        self.add_button = QPushButton("add the form's plan")
        self.remove_button = QPushButton("remove")
        self.run_button = QPushButton("run queue")
        self.stop_button = QPushButton("stop after this scan")
        self.remove_button.clicked.connect(self.remove_selected)
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.run_button, self.stop_button):
            buttons.addWidget(button)
        self.state = QLabel("no queue folder")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        self.queue: ScanQueue | None = None
        self.active = False
        self.current: QueueEntry | None = None

    # -- folder and entries ----------------------------------------------------------------
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Queue folder", self.folder.text())
        if path:
            self.open_folder(path)

    def open_folder(self, path: str) -> bool:
        if not path.strip():
            return False
        try:
            self.queue = ScanQueue(path)
        except InputError as exc:
            self.queue = None
            self.state.setText(str(exc))
            return False
        self.folder.setText(str(self.queue.out_dir))
        self.folder_changed.emit(str(self.queue.out_dir))
        self.refresh()
        return True

    def add_plan(self, plan_dict: dict[str, object]) -> QueueEntry | None:
        """Queue a copy of ``plan_dict`` (the form's plan) saved into ``DIR/plans/``."""
        if self.queue is None and not self.open_folder(self.folder.text()):
            self.state.setText("choose a queue folder first")
            return None
        assert self.queue is not None
        plans = self.queue.out_dir / "plans"
        plans.mkdir(parents=True, exist_ok=True)
        name = str(plan_dict.get("name") or "scan")
        path, n = plans / f"{name}.toml", 1
        while path.exists():
            n += 1
            path = plans / f"{name}-{n}.toml"
        path.write_text(tomli_w.dumps(drop_none(plan_dict)), encoding="utf-8")
        entry = self.queue.add(path, again=True)
        self.refresh()
        return entry

    def remove_selected(self) -> None:
        if self.queue is None:
            return
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            if self.queue.entries[row] is not self.current:
                self.queue.remove(row)
        self.refresh()

    def refresh(self) -> None:
        queue = self.queue
        entries = queue.entries if queue is not None else []
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            status = entry.status
            if status != "running" or entry is not self.current:
                status = SHOWN.get(status, status)
            for col, text in enumerate((Path(entry.plan).stem, status, Path(entry.out).name)):
                item = QTableWidgetItem(text)
                item.setToolTip(entry.message or (entry.plan if col == 0 else entry.out))
                self.table.setItem(row, col, item)
        if queue is not None:
            running = "running · " if self.active else ""
            self.state.setText(f"{running}{queue.summary() or 'empty'}")
        self.run_button.setEnabled(queue is not None and not self.active)
        self.stop_button.setEnabled(self.active)

    # -- running ---------------------------------------------------------------------------
    def start(self) -> bool:
        """Run the queue from its first unfinished entry."""
        if self.queue is None or self.active:
            return False
        self.active = True
        return self._next()

    def stop(self) -> None:
        """The running scan finishes; no further entry starts."""
        self.active = False
        self.refresh()

    def _next(self) -> bool:
        queue = self.queue
        entry = queue.next_entry() if queue is not None and self.active else None
        if queue is None or entry is None:
            self.active = False
            self.current = None
            self.refresh()
            return False
        try:
            plan = load_plan(entry.plan)
        except InputError as exc:
            queue.mark(entry, "error", str(exc))
            return self._next()
        resume = Path(entry.out).exists()
        queue.mark(entry, "running")
        self.current = entry
        self.refresh()
        self.run_requested.emit(plan, Path(entry.out), resume)
        return True

    def scan_ended(self, status: str, error: str) -> None:
        """The scan panel's run ended: record it; go on only after a finished scan."""
        entry, queue = self.current, self.queue
        if entry is None or queue is None:
            return
        self.current = None
        if status == "":
            queue.mark(entry, "error", error or "did not start")
        else:
            queue.mark(entry, status, error)
        if status != "finished":
            self.active = False
        if self.active:
            self._next()
        else:
            self.refresh()
