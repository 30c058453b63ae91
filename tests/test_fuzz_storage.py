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

import h5py
import pytest
from harness_storage import ByteDamage, global_heaps, read_everything, write_reference
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tamrig.errors import InputError, StorageError
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
def test_resume_of_damaged_file_is_refused_naming_it(damage: ByteDamage) -> None:
    """Damage found by the read-only check is an input error and leaves the file as it was;
    damage only the writer meets is a storage error."""
    reference = reference_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path = damaged_copy(folder, reference, damage)
        before = path.read_bytes()
        try:
            writer = ScanWriter.resume(path)
        except InputError as exc:
            assert str(path) in str(exc)
            assert path.read_bytes() == before
        except StorageError as exc:
            assert str(path) in str(exc)
        else:
            writer.close()


def test_scan_texts_are_fixed_length_so_heap_damage_cannot_hang_the_reader(
    reference: bytes, tmp_path: Path
) -> None:
    """libhdf5 loops forever decoding a variable-length string whose global-heap entry is
    damaged. Every text tamrig reads is fixed-length; only attribute texts (NX_class,
    units, ...) live in the heap, and zeroing one of them leaves the reader unharmed."""
    path = tmp_path / "heap.h5"
    path.write_bytes(reference)
    texts: list[str] = []

    def variable_length_text(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset):
            info = h5py.check_string_dtype(obj.dtype)
            if info is not None and info.length is None:
                texts.append(name)

    with h5py.File(path, "r") as f:
        f.visititems(variable_length_text)
    assert texts == []  # no variable-length text dataset
    start, _ = global_heaps(reference)[0]
    raw = bytearray(reference)
    header = start + 16 + 8 + 2  # after the collection header: skip the first object's index
    raw[header : header + 32] = bytes(32)
    path.write_bytes(bytes(raw))
    code = (
        "import sys; from pathlib import Path; from harness_storage import read_everything;"
        f"print(read_everything(Path({str(path)!r}), Path({str(tmp_path / 'h.csv')!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=HERE, timeout=60, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"
