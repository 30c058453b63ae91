"""What the window remembers between sessions: layout, recent rigs, last plan (QSettings).

Stored as an INI file in the user's configuration folder; tests redirect it with
``QSettings.setPath(IniFormat, UserScope, tmp_dir)``.
"""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings

ORGANISATION = "tamrig"
APPLICATION = "tamrig"
MAX_RECENT = 8


class GuiSettings:
    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
        )

    def _str(self, key: str) -> str | None:
        value = self.store.value(key)
        return str(value) if value else None

    # -- rigs and plans --------------------------------------------------------------------
    def recent_rigs(self) -> list[str]:
        value = self.store.value("rig/recent") or []
        items = [value] if isinstance(value, str) else list(value)
        return [str(v) for v in items if v]

    def remember_rig(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        recent = [text, *(r for r in self.recent_rigs() if r != text)][:MAX_RECENT]
        self.store.setValue("rig/recent", recent)
        self.store.setValue("rig/last", text)

    def last_rig(self) -> str | None:
        return self._str("rig/last")

    def last_plan(self) -> str | None:
        return self._str("plan/last")

    def remember_plan(self, path: str | Path) -> None:
        self.store.setValue("plan/last", str(Path(path).resolve()))

    def last_data_dir(self) -> str | None:
        return self._str("data/last_dir")

    def remember_data_dir(self, path: str | Path) -> None:
        self.store.setValue("data/last_dir", str(Path(path).resolve()))

    def queue_dir(self) -> str | None:
        return self._str("queue/dir")

    def remember_queue_dir(self, path: str | Path) -> None:
        self.store.setValue("queue/dir", str(Path(path).resolve()))

    # -- stage bookmarks (positions in mm, per rig file) -----------------------------------
    def stage_bookmarks(self) -> dict[str, float]:
        text = self._str(f"stage/bookmarks/{self._rig_key()}")
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return {}
        return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def save_stage_bookmarks(self, marks: dict[str, float]) -> None:
        self.store.setValue(f"stage/bookmarks/{self._rig_key()}", json.dumps(marks))

    def _rig_key(self) -> str:
        rig = self.last_rig() or "default"
        return "".join(c if c.isalnum() else "_" for c in rig)[-120:]

    # -- camera presets (exposure, frame rate, format, ROI), per rig file --------------------
    def camera_presets(self) -> dict[str, dict[str, object]]:
        text = self._str(f"camera/presets/{self._rig_key()}")
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def save_camera_presets(self, presets: dict[str, dict[str, object]]) -> None:
        self.store.setValue(f"camera/presets/{self._rig_key()}", json.dumps(presets))

    # -- plan presets ----------------------------------------------------------------------
    def preset_names(self) -> list[str]:
        self.store.beginGroup("presets")
        try:
            return sorted(self.store.childKeys())
        finally:
            self.store.endGroup()

    def preset(self, name: str) -> str | None:
        return self._str(f"presets/{name}")

    def save_preset(self, name: str, plan_toml: str) -> None:
        self.store.setValue(f"presets/{name}", plan_toml)

    # -- layout ----------------------------------------------------------------------------
    def save_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry-v2", geometry)
        self.store.setValue("window/state-v2", state)

    def layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.store.value("window/geometry-v2")
        state = self.store.value("window/state-v2")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def sync(self) -> None:
        self.store.sync()
