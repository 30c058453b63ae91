"""Fuzz scan plans through ``tamrig scan``: no traceback, exit 2 naming the file and field.

The plan is checked before anything moves; the scan itself is not run here (``Scan.run`` is
replaced), so a mutation that happens to be valid costs only its pre-flight.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path

import pytest
from harness_cli import related_fields, run_cli
from harness_engine import TINY_PLAN, write_rig
from harness_mutate import Mutation, TextDamage, dump, mutations, text_damage
from hypothesis import HealthCheck, example, given, settings

import tamrig.engine.session as session

BASE = tomllib.loads(TINY_PLAN.format(sweeps=1))
FUZZ = settings(
    max_examples=int(os.environ.get("TAMRIG_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize="TAMRIG_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def rig_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rig(tmp_path_factory.mktemp("planfuzz"))


@pytest.fixture(autouse=True)
def no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session.Scan, "run", lambda self: "finished")


def scan_plan(text: bytes, rig_file: Path) -> tuple[object, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed-plan.toml"
        path.write_bytes(text)
        out = Path(folder) / "out.h5"
        return run_cli(["scan", str(path), "--rig", str(rig_file), "--out", str(out)]), str(path)


def absurd(value: object) -> bool:
    """A finite number so large or so tiny that only a derived quantity can catch it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    magnitude = abs(float(value))
    return magnitude > 1e100 or 0 < magnitude < 1e-100


def check(result: object, path: str) -> None:
    r = result  # CliResult
    assert r.escaped is None and "Traceback" not in r.err, r.describe()  # type: ignore[attr-defined]
    code = r.code  # type: ignore[attr-defined]
    if code == 1:  # the only fault a plan may cause: not enough disk for its data
        assert "not enough space" in r.err, r.describe()  # type: ignore[attr-defined]
    else:
        assert code in (0, 2), r.describe()  # type: ignore[attr-defined]
    if code == 2:
        assert path in r.err, r.describe()  # type: ignore[attr-defined]


@FUZZ
@given(mutation=mutations(BASE))
@example(mutation=Mutation("replace", ("delays", "segments", 0, "values"), []))
@example(mutation=Mutation("replace", ("delays", "segments", 0, "unit"), "furlongs"))
@example(mutation=Mutation("replace", ("delays", "segments", 0, "values", 2), 1.0e12))
@example(mutation=Mutation("replace", ("delays", "segments", 0, "values", 0), float("nan")))
@example(mutation=Mutation("replace", ("fluence", "values"), []))
@example(mutation=Mutation("replace", ("fluence", "unit"), "J"))
@example(mutation=Mutation("replace", ("probe", "wavelengths_nm"), [1234.0]))
@example(mutation=Mutation("replace", ("acquisition", "pairs_per_point"), 0))
@example(mutation=Mutation("replace", ("sweeps", "count"), 2**63))
@example(mutation=Mutation("delete", ("delays",)))
def test_structured_plan_mutations(mutation: Mutation, rig_file: Path) -> None:
    result, path = scan_plan(dump(mutation.apply(BASE)).encode(), rig_file)
    check(result, path)
    if (
        result.code == 2  # type: ignore[attr-defined]
        and "free (expected fewer points" not in result.err  # type: ignore[attr-defined]
        and not absurd(mutation.value)
    ):
        # A plan too big for the disk names the acquisition, whichever axis made it big; an
        # absurd magnitude (1e308 nm spot) may surface where it breaks (fluence: inf).
        fields = result.fields  # type: ignore[attr-defined]
        assert fields, result.describe()  # type: ignore[attr-defined]
        # the sample's absorption and spot size act only through the fluence conversion
        via_fluence = mutation.field.startswith("sample.")
        assert any(
            related_fields(f, mutation.field) or (via_fluence and f.startswith("fluence"))
            for f in fields
        ), (
            f"mutated {mutation.field!r}\n" + result.describe()  # type: ignore[attr-defined]
        )


@FUZZ
@given(damage=text_damage)
@example(damage=TextDamage("truncate", 0.4))
def test_damaged_plan_bytes(damage: TextDamage, rig_file: Path) -> None:
    result, path = scan_plan(damage.apply(TINY_PLAN.format(sweeps=1).encode()), rig_file)
    check(result, path)
