"""Hypothesis strategies that damage TOML documents the way people and disks do.

Structured mutations act on the parsed document (wrong type, unknown key, missing key or
table, hostile number) and remember the field they touched, so a test can check that the
error message names it. Text mutations act on the bytes (truncation, garbage, a mangled line)
and only promise that the file is named.
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import strategies as st

Path_ = tuple[str | int, ...]

#: Numbers that break naive code: huge, tiny, negative, non-finite, past 64 bits.
HOSTILE_NUMBERS = (
    0,
    -1,
    -1.0e308,
    1.0e308,
    5e-324,
    2**63,
    -(2**63) - 1,
    10**30,
    math.nan,
    math.inf,
    -math.inf,
)

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)

#: Any value TOML can hold, biased towards the hostile ones.
scalar_values = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    _text,
)
toml_values = st.recursive(
    scalar_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_text.filter(bool), inner, max_size=3)
    ),
    max_leaves=6,
)


def field_name(path: Path_) -> str:
    """``("devices", "stage", "travel_mm", 1)`` -> ``devices.stage.travel_mm[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
    return text


def all_paths(data: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every key, table and list item of a parsed document (depth first)."""
    paths: list[Path_] = []
    items: Any = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        path = (*prefix, key)
        paths.append(path)
        if isinstance(value, dict | list):
            paths.extend(all_paths(value, path))
    return paths


def table_paths(data: dict[str, Any], prefix: Path_ = ()) -> list[Path_]:
    """Every table of the document, the root included."""
    paths: list[Path_] = [prefix]
    for key, value in data.items():
        if isinstance(value, dict):
            paths.extend(table_paths(value, (*prefix, key)))
    return paths


def _parent(data: Any, path: Path_) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


@dataclass(frozen=True)
class Mutation:
    """One structured change: ``op`` in replace | delete | add, at ``path``."""

    op: str
    path: Path_
    value: Any = None

    @property
    def field(self) -> str:
        return field_name(self.path)

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(data)
        parent = _parent(out, self.path)
        key = self.path[-1]
        if self.op == "delete":
            del parent[key]
        else:  # replace or add
            parent[key] = self.value
        return out


def mutations(data: dict[str, Any]) -> st.SearchStrategy[Mutation]:
    """A wrong value anywhere, a removed key or table, or an unknown key in any table."""
    paths = all_paths(data)
    replace = st.builds(Mutation, st.just("replace"), st.sampled_from(paths), toml_values)
    delete = st.builds(
        Mutation,
        st.just("delete"),
        st.sampled_from([p for p in paths if not isinstance(p[-1], int)]),
    )
    add = st.builds(
        lambda table, key, value: Mutation("add", (*table, key), value),
        st.sampled_from(table_paths(data)),
        st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).map(lambda k: k + "_x"),
        toml_values,
    )
    return st.one_of(replace, delete, add)


def dump(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data)


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class TextDamage:
    """Byte-level damage: ``truncate`` at ``at``, ``insert`` or ``overwrite`` ``junk``."""

    op: str
    at: float  # fraction of the file length
    junk: bytes = b""

    def apply(self, raw: bytes) -> bytes:
        i = int(self.at * len(raw))
        if self.op == "truncate":
            return raw[:i]
        if self.op == "insert":
            return raw[:i] + self.junk + raw[i:]
        return raw[:i] + self.junk + raw[i + len(self.junk) :]


text_damage = st.builds(
    TextDamage,
    st.sampled_from(["truncate", "insert", "overwrite"]),
    st.floats(0.0, 1.0),
    st.binary(min_size=1, max_size=16),
)
