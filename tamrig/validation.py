"""Turn pydantic validation errors and TOML syntax errors into messages a user can act on."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tamrig.errors import InputError

M = TypeVar("M", bound=BaseModel)


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """``("devices", "stage", "velocity")`` -> ``devices.stage.velocity`` (list items as [i])."""
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def user_loc(loc: Sequence[int | str], data: Any, *, keep_last: bool = True) -> list[int | str]:
    """The parts of a pydantic error location that exist in the user's document.

    Pydantic adds union member names and discriminator tags (``segments[0].list.values``)
    that appear nowhere in the file; they are dropped by walking the data along ``loc``. The
    last part stays even when absent if ``keep_last`` (a missing or unknown key); an error
    of a whole table (a model validator) ends at the table.
    """
    node = data
    out: list[int | str] = []
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif (
            i < len(loc) - 1
            or not keep_last
            or (isinstance(part, str) and part.startswith("function-"))
        ):
            continue
        out.append(part)
    return out


def describe_validation_error(
    exc: ValidationError, *, prefix: str = "", data: Any = None
) -> tuple[str, str, str]:
    """(field, message, expected) for the first error, plus a count of the others."""
    # A typo shows up as an unknown key plus a missing one; the unknown key is the useful news.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = [p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    kind = first["type"]
    if data is not None:
        loc = user_loc(loc, data, keep_last=kind in ("missing", "extra_forbidden"))
    field = field_path(loc, prefix)
    given = first.get("input")
    if kind == "extra_forbidden":
        message = "unknown key"
        expected = "one of the documented keys (check spelling)"
    elif kind == "missing":
        message = "required key is missing"
        expected = "a value"
    else:
        message = f"invalid value {given!r}" if not isinstance(given, dict) else "invalid table"
        expected = first["msg"]
        if expected.lower().startswith("value error, "):
            expected = expected[len("value error, ") :]
    if len(errors) > 1:
        others = ", ".join(field_path([p for p in e["loc"]], prefix) for e in errors[1:4])
        message += f" (and {len(errors) - 1} more problem(s): {others})"
    return field, message, expected


def validate_model(
    model: type[M],
    data: Any,
    *,
    file: str | Path | None,
    prefix: str = "",
    error: type[InputError] = InputError,
) -> M:
    """Validate ``data`` against ``model``; raise ``error`` naming file and field on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message, expected = describe_validation_error(exc, prefix=prefix, data=data)
        raise error(message, file=file, field=field, expected=expected) from None


def load_toml(path: str | Path, *, error: type[InputError] = InputError) -> dict[str, Any]:
    """Read a TOML file; a missing file or a syntax error names the file (and line).

    A UTF-8 byte-order mark (as some Windows editors write) is skipped.
    """
    path = Path(path)
    try:
        if not path.is_file() and path.exists() and not path.is_dir():
            raise error("is not a regular file", file=path, expected="a TOML text file")
        raw = path.read_bytes()
        return tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except FileNotFoundError:
        raise error("file not found", file=path) from None
    except IsADirectoryError:
        raise error("is a directory, not a TOML file", file=path) from None
    except PermissionError:
        raise error("cannot be read (permission denied)", file=path) from None
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason})", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"TOML syntax error: {exc}", file=path) from None
