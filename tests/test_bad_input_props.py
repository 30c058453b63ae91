"""Property tests: any value in any plan or rig field -- extremes included -- ends cleanly.

Each example writes one plan (or rig) with one field set to a hostile TOML literal (0,
negatives, 1e±300, 2**63, the spellings of NaN and infinity, unicode, an empty table),
sometimes behind a UTF-8 byte-order mark, and runs ``tamrig scan --check`` and the real
``tamrig scan`` in this process (the points themselves are not measured: ``Scan.run`` is
replaced). Whatever happens: no traceback; a refusal is exit 2 naming the file and the
field; both commands refuse alike (one code path); the memory the command allocates stays
bounded; and every file in the folder -- the inputs and the folder listing -- is byte for
byte as before.
"""

from __future__ import annotations

import os
import tomllib
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import SIM_RIG
from harness_cli import CliResult, related_fields, run_cli
from harness_engine import TINY_PLAN
from harness_mutate import dump, load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_input import snapshot

import tamrig.engine.session as session

PROPS = settings(
    max_examples=int(os.environ.get("TAMRIG_FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize="TAMRIG_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: What one in-process command may allocate (Python and numpy, traced): a plan or rig that
#: asks for more must be refused by arithmetic, not by running out of memory.
MEMORY_LIMIT_BYTES = 256 * 2**20
BOM = b"\xef\xbb\xbf"

#: TOML literals that break naive code, as they would be typed into a file.
HOSTILE_LITERALS = (
    "0",
    "-1",
    "-0.0",
    "1e300",
    "-1e300",
    "1e-300",
    "5e-324",
    "1e999",
    "-1e999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "nan",
    "+nan",
    "-nan",
    "inf",
    "+inf",
    "-inf",
    '"NaN"',
    '"Infinity"',
    '"1e3"',
    '"∞"',
    '"１２"',
    '""',
    '"ünïcödé ✓"',
    "[]",
    "{}",
    "true",
)
literals = st.one_of(
    st.sampled_from(HOSTILE_LITERALS),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)

PLAN = tomllib.loads(TINY_PLAN.format(sweeps=1))
PLAN["delays"]["segments"].append({"kind": "linear", "start": 600, "stop": 900, "step": 100})
PLAN_FIELDS: tuple[tuple[str | int, ...], ...] = (
    ("name",),
    ("sample", "cross_section_cm2"),
    ("sample", "pump_sigma_nm"),
    ("delays", "reference_fs"),
    ("delays", "segments", 0, "values", 0),
    ("delays", "segments", 1, "start"),
    ("delays", "segments", 1, "stop"),
    ("delays", "segments", 1, "step"),
    ("fluence", "values", 0),
    ("probe", "wavelengths_nm", 0),
    ("sweeps", "count"),
    ("sweeps", "seed"),
    ("acquisition", "pairs_per_point"),
    ("acquisition", "block_frames"),
    ("acquisition", "dark_frames"),
    ("acquisition", "settle_frames"),
)
PLAN_TABLES = ("sample", "delays", "fluence", "probe", "sweeps", "acquisition")

RIG = load(SIM_RIG)
RIG["simulation"]["time_scale"] = 0.0
RIG_FIELDS: tuple[tuple[str | int, ...], ...] = (
    ("rig", "passes"),
    ("rig", "time_zero_mm"),
    ("rig", "pixel_size_nm"),
    ("rig", "pump_wavelength_nm"),
    ("rig", "rep_rate_hz"),
    ("rig", "max_fluence_uj_cm2"),
    ("simulation", "seed"),
    ("simulation", "pump_power_max_w"),
    ("simulation", "camera_accumulate"),
    ("devices", "stage", "travel_mm", 0),
    ("devices", "stage", "travel_mm", 1),
    ("devices", "stage", "velocity_mm_s"),
    ("devices", "camera", "roi", 0),
    ("devices", "camera", "roi", 2),
    ("devices", "camera", "roi", 3),
    ("devices", "camera", "frame_rate_hz"),
    ("devices", "camera", "exposure_us"),
    ("devices", "camera", "accumulate"),
    ("devices", "camera", "sensor_width"),
    ("devices", "attenuator", "extinction"),
    ("devices", "power_meter", "wavelength_nm"),
)
RIG_TABLES = ("rig", "simulation", "devices.stage", "devices.camera")

PLACEHOLDER = "@@hostile@@"


@dataclass(frozen=True)
class Edit:
    """One field of a document set to a TOML literal, or one table emptied."""

    path: tuple[str | int, ...]
    literal: str
    bom: bool

    @property
    def field(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
        return text

    def render(self, base: dict[str, Any]) -> bytes:
        import copy

        data = copy.deepcopy(base)
        node: Any = data
        for part in self.path[:-1]:
            node = node[part]
        node[self.path[-1]] = {} if self.literal == "{table}" else PLACEHOLDER
        text = dump(data).replace(f'"{PLACEHOLDER}"', self.literal)
        return (BOM if self.bom else b"") + text.encode()


def edits(fields: tuple[tuple[str | int, ...], ...], tables: tuple[str, ...]) -> Any:
    field_edits = st.builds(Edit, st.sampled_from(fields), literals, st.booleans())
    emptied = st.builds(
        Edit,
        st.sampled_from([tuple(t.split(".")) for t in tables]),
        st.just("{table}"),
        st.booleans(),
    )
    return st.one_of(field_edits, emptied)


@pytest.fixture(autouse=True)
def no_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session.Scan, "run", lambda self: "finished")


def measured(argv: list[str]) -> tuple[CliResult, int]:
    tracemalloc.start()
    try:
        result = run_cli(argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def clean(result: CliResult, peak: int, *, device_faults: bool = False) -> None:
    """No traceback, bounded memory, exit 0 or 2 -- or, where the edited rig makes a
    simulated device fail (a pump power past the power meter's range), exit 1 naming the
    device and no field."""
    assert result.escaped is None and "Traceback" not in result.err, result.describe()
    assert peak < MEMORY_LIMIT_BYTES, f"{peak / 2**20:.0f} MiB\n{result.describe()}"
    if device_faults and result.code == 1:
        device = result.err.split("error: ", 1)[-1].split(":", 1)[0]
        assert device in RIG["devices"] and not result.fields, result.describe()
        return
    assert result.code in (0, 2), result.describe()


def names(result: CliResult, file: Path, edit: Edit, *, via: tuple[str, ...] = ()) -> None:
    """A refusal names the file and the edited field (or its table, or a field it feeds)."""
    assert str(file) in result.err, result.describe()
    fields = result.fields
    if edit.literal == "{table}" and not fields:
        return  # an emptied table may surface as the table's missing key, named by TOML
    assert any(related_fields(f, edit.field) or f.startswith(via) for f in fields), (
        f"edited {edit.field!r} = {edit.literal}\n{result.describe()}"
    )


def check_and_scan(
    plan: Path, rig: Path, folder: Path, *, device_faults: bool = False
) -> tuple[CliResult, CliResult | None]:
    """``--check``, then the scan itself: a refusal by one is the refusal of the other."""
    out = folder / "out.h5"
    argv = ["scan", str(plan), "--rig", str(rig), "--out", str(out), "--quiet"]
    before = snapshot(folder)
    checked, peak = measured([*argv, "--check"])
    clean(checked, peak, device_faults=device_faults)
    assert snapshot(folder) == before, checked.describe()  # --check never writes
    if checked.code == 0:
        return checked, None
    scanned, peak = measured(argv)
    clean(scanned, peak, device_faults=device_faults)
    assert scanned.code == checked.code and scanned.fields == checked.fields, (
        checked.describe() + "\n=== scan ===\n" + scanned.describe()
    )
    assert snapshot(folder) == before, scanned.describe()  # refused: nothing touched
    return checked, scanned


@PROPS
@given(edit=edits(PLAN_FIELDS, PLAN_TABLES))
def test_any_plan_value_ends_cleanly(edit: Edit, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("plan")
    plan = folder / "plan.toml"
    plan.write_bytes(edit.render(PLAN))
    rig = folder / "rig.toml"
    rig.write_text(dump(RIG))
    checked, _ = check_and_scan(plan, rig, folder)
    if checked.code == 2:
        # the sample's absorption and spot size act only through the fluence conversion
        names(checked, plan, edit, via=("fluence",) if edit.path[0] == "sample" else ())


@PROPS
@given(edit=edits(RIG_FIELDS, RIG_TABLES))
def test_any_rig_value_ends_cleanly(edit: Edit, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("rig")
    rig = folder / "rig.toml"
    rig.write_bytes(edit.render(RIG))
    plan = folder / "plan.toml"
    plan.write_text(dump(PLAN))
    before = snapshot(folder)
    listed, peak = measured(["devices", "--rig", str(rig)])
    clean(listed, peak)
    assert snapshot(folder) == before
    # the ROI is checked against the sensor: a smaller sensor may surface as the ROI
    via = ("devices.camera.roi",) if str(edit.path[-1]).startswith("sensor_") else ()
    if listed.code == 2:
        names(listed, rig, edit, via=via)
    checked, _ = check_and_scan(plan, rig, folder, device_faults=True)
    if listed.code == 2:
        assert checked.code == 2 and checked.fields == listed.fields, checked.describe()
    elif checked.code == 2 and str(rig) in checked.err:
        names(checked, rig, edit, via=via)
    # else: a valid rig on which the plan cannot run (its delays past a moved time zero, a
    # fluence out of reach): the refusal names the plan's field, as checked above


def test_the_unedited_documents_run() -> None:
    """The baseline of both properties is itself fine (else every example fails alike)."""
    import tempfile

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "plan.toml").write_text(dump(PLAN))
        (folder / "rig.toml").write_text(dump(RIG))
        checked, scanned = check_and_scan(folder / "plan.toml", folder / "rig.toml", folder)
        assert checked.code == 0 and scanned is None, checked.describe()
