"""Fuzz the scan-file reader and resume with damaged files: a StorageError, never a traceback.

A reference scan (4 points and a fault event) is cut short, overwritten with junk or zeroed
at random places; opening and reading everything must either work or raise StorageError.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from harness_storage import ByteDamage, global_heaps, read_everything, touches, write_reference
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tamrig.errors import StorageError
from tamrig.storage import ScanWriter

HERE = Path(__file__).resolve().parent
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

damages = st.builds(
    ByteDamage,
    st.sampled_from(["truncate", "overwrite", "zero"]),
    st.floats(0.0, 1.0),
    st.binary(min_size=1, max_size=16),
)


@functools.cache
def reference_bytes() -> bytes:
    """The undamaged file (a module-wide constant, kept out of hypothesis' reports)."""
    with tempfile.TemporaryDirectory() as folder:
        return write_reference(Path(folder) / "reference.h5").read_bytes()


@pytest.fixture
def reference() -> bytes:
    return reference_bytes()


def damaged_copy(folder: str, raw: bytes, damage: ByteDamage) -> Path:
    path = Path(folder) / "damaged.h5"
    path.write_bytes(damage.apply(raw))
    return path


def test_reference_reads_back(reference: bytes, tmp_path: Path) -> None:
    path = tmp_path / "ok.h5"
    path.write_bytes(reference)
    assert read_everything(path, tmp_path / "ok.csv") == 4


@FUZZ
@given(damage=damages)
@example(damage=ByteDamage("truncate", 0.0))
@example(damage=ByteDamage("truncate", 0.5))
@example(damage=ByteDamage("truncate", 0.99))
@example(damage=ByteDamage("zero", 0.0, b"x"))
@example(damage=ByteDamage("overwrite", 0.7, b"\xff" * 16))
def test_damaged_file_reads_or_raises_storage_error(damage: ByteDamage) -> None:
    reference = reference_bytes()
    assume(not touches(damage, reference, global_heaps(reference)))  # see the xfail below
    with tempfile.TemporaryDirectory() as folder:
        path = damaged_copy(folder, reference, damage)
        try:
            n = read_everything(path, Path(folder) / "out.csv")
        except StorageError as exc:
            assert str(path) in str(exc)
        else:
            assert 0 <= n <= 4


@settings(FUZZ, max_examples=40)
@given(damage=damages)
@example(damage=ByteDamage("truncate", 0.5))
@example(damage=ByteDamage("zero", 0.01, b"x"))
def test_resume_of_damaged_file_raises_storage_error(damage: ByteDamage) -> None:
    reference = reference_bytes()
    assume(not touches(damage, reference, global_heaps(reference)))
    with tempfile.TemporaryDirectory() as folder:
        path = damaged_copy(folder, reference, damage)
        try:
            writer = ScanWriter.resume(path)
        except StorageError as exc:
            assert str(path) in str(exc)
        else:
            writer.close()


@pytest.mark.xfail(
    strict=True,
    reason="libhdf5 loops forever decoding a variable-length string whose global-heap object "
    "size was zeroed; the fix is storing the JSON texts as fixed-length strings",
)
def test_damaged_string_heap_hangs(reference: bytes, tmp_path: Path) -> None:
    """Zeroing one heap object header makes reading the metadata never return."""
    start, _ = global_heaps(reference)[0]
    path = tmp_path / "heap.h5"
    raw = bytearray(reference)
    header = start + 16 + 8 + 2  # after the collection header: skip the first object's index
    raw[header : header + 32] = bytes(32)
    path.write_bytes(bytes(raw))
    code = (
        "import sys; from pathlib import Path; from harness_storage import read_everything;"
        f"read_everything(Path({str(path)!r}), Path({str(tmp_path / 'h.csv')!r}))"
    )
    try:
        subprocess.run(
            [sys.executable, "-c", code], cwd=HERE, timeout=5, capture_output=True, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading a file with a damaged string heap did not return within 5 s")
