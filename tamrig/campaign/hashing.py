"""Content hashes and the result cache that make a campaign resumable and incremental.

A series is analysed again only when its inputs change: the bytes of a member file (its
SHA-256; a file still being written changes with every point) or the analysis settings.
Hashing a large raw-frame file costs a full read, so hashes are remembered per
(path, size, modification time) in the cache folder and reused while those stay the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tamrig import __version__

#: Bump when the rows or curves a task returns change shape: old entries are ignored.
CACHE_FORMAT = 1
_BLOCK = 4 * 2**20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def settings_digest(settings: dict[str, Any]) -> str:
    """Digest of the analysis settings and the program version (new code, new results)."""
    text = json.dumps(
        {"settings": settings, "version": __version__, "format": CACHE_FORMAT}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def series_key(settings_digest_: str, members: Iterable[tuple[str, str, float, str]]) -> str:
    """Cache key of one series: settings plus (content hash, probe, label) of each member
    part. Paths are left out: a moved file keeps its results."""
    parts = sorted(f"{h}|{p:.3f}|{label}" for _, h, p, label in members)
    text = settings_digest_ + "\n" + "\n".join(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ResultCache:
    """JSON results per series key, and remembered file hashes, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.results = folder / "results"
        self.results.mkdir(parents=True, exist_ok=True)
        self._index_path = folder / "file_hashes.json"
        self._index: dict[str, list[Any]] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(self._index_path.read_text())
            if isinstance(loaded, dict):
                self._index = loaded

    # -- file hashes ----------------------------------------------------------------------
    def content_hash(self, path: Path) -> str:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        known = self._index.get(str(path))
        if known and known[:2] == stamp:
            return str(known[2])
        digest = file_sha256(path)
        self._index[str(path)] = [*stamp, digest]
        return digest

    def save_index(self) -> None:
        _write_atomic(self._index_path, json.dumps(self._index, indent=0))

    # -- results --------------------------------------------------------------------------
    def get(self, key: str) -> dict[str, Any] | None:
        path = self.results / f"{key}.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None  # missing, or cut short by a crash: analyse again
        return data if isinstance(data, dict) else None

    def put(self, key: str, result: dict[str, Any]) -> None:
        _write_atomic(self.results / f"{key}.json", json.dumps(result))


def _write_atomic(path: Path, text: str) -> None:
    """Write through a side file and rename: a killed run never leaves half a JSON."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
