"""Fuzz rig files through ``tamrig devices --rig``: no traceback, exit 2, file and field named.

Every mutation starts from the shipped simulated rig. Some mutations leave a valid rig (an
optional key removed, a name changed): then the command must simply work (exit 0).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import SIM_RIG
from harness_cli import CliResult, run_cli
from harness_mutate import Mutation, TextDamage, dump, load, mutations, text_damage
from hypothesis import HealthCheck, example, given, settings

BASE = load(SIM_RIG)
FUZZ = settings(
    max_examples=int(__import__("os").environ.get("TAMRIG_FUZZ_EXAMPLES", "120")),
    deadline=None,
    derandomize="TAMRIG_FUZZ_EXAMPLES" not in __import__("os").environ,
    suppress_health_check=[HealthCheck.too_slow],
)


def run_devices(text: bytes) -> tuple[CliResult, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed-rig.toml"
        path.write_bytes(text)
        return run_cli(["devices", "--json", "--rig", str(path)]), str(path)


def check_user_facing(result: CliResult, path: str) -> None:
    """What every outcome must satisfy: no traceback; a failure is an input error naming
    the file."""
    assert result.escaped is None, result.describe()
    assert "Traceback" not in result.err, result.describe()
    assert result.code in (0, 2), result.describe()
    if result.code == 2:
        assert path in result.err, result.describe()


@FUZZ
@given(mutations(BASE))
@example(Mutation("replace", ("devices", "stage", "kind"), ":Nothing"))
@example(Mutation("replace", ("devices", "stage", "kind"), ".relative:Stage"))
@example(Mutation("replace", ("devices", "stage", "travel_mm", 1), float("nan")))
@example(Mutation("replace", ("devices", "stage", "velocity_mm_s"), float("inf")))
@example(Mutation("replace", ("simulation", "time_scale"), 1.0e308))
@example(Mutation("replace", ("rig", "time_zero_mm"), float("nan")))
@example(Mutation("replace", ("rig", "passes"), 2**63))
@example(Mutation("delete", ("devices",)))
@example(Mutation("delete", ("rig",)))
@example(Mutation("add", ("devices", "camera", "roi_x"), 1))
@example(Mutation("replace", ("devices", "camera", "roi"), [0, 0, 10**30, 4]))
def test_structured_rig_mutations(mutation: Mutation) -> None:
    result, path = run_devices(dump(mutation.apply(BASE)).encode())
    check_user_facing(result, path)
    if result.code == 2:
        # The message names a field, and it is the one we broke (or its table / an item).
        assert result.fields, result.describe()
        from harness_cli import related_fields

        assert any(related_fields(f, mutation.field) for f in result.fields), (
            f"mutated {mutation.field!r}\n" + result.describe()
        )


@FUZZ
@given(text_damage)
@example(TextDamage("truncate", 0.5))
@example(TextDamage("insert", 0.0, b"\xff\xfe"))
@example(TextDamage("overwrite", 0.3, b"\x00\x00\x00"))
def test_damaged_rig_bytes(damage: TextDamage) -> None:
    result, path = run_devices(damage.apply(SIM_RIG.read_bytes()))
    check_user_facing(result, path)


def test_valid_rig_still_runs() -> None:
    """The fuzz baseline itself is fine (otherwise every example would fail for one reason)."""
    result, _ = run_devices(dump(BASE).encode())
    assert result.code == 0, result.describe()
    assert '"devices"' in result.out
