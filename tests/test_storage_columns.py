"""Scalar columns written a chunk at a time (tamrig.storage.columns)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from tamrig.storage.columns import ColumnChunk, chunk_writable


def _column(f: h5py.File, name: str, dtype: str, fill: object) -> h5py.Dataset:
    return f.create_dataset(
        name, shape=(0,), maxshape=(None,), chunks=(4,), dtype=dtype, fillvalue=fill
    )


def test_rows_cross_chunks_and_survive_a_reopen_mid_chunk(tmp_path: Path) -> None:
    path = tmp_path / "c.h5"
    with h5py.File(path, "w", libver="latest") as f:
        values, texts = _column(f, "v", "f8", np.nan), _column(f, "t", "S8", b"")
        a, b = ColumnChunk(values, 0), ColumnChunk(texts, 0)
        for i in range(6):
            a.append(i, i * 1.5)
            b.append(i, f"r{i}".encode())
    with h5py.File(path, "a", libver="latest") as f:  # resume: row 6 is inside chunk 1
        a, b = ColumnChunk(f["v"], 6), ColumnChunk(f["t"], 6)
        for i in range(6, 11):
            a.append(i, i * 1.5)
            b.append(i, f"r{i}".encode())
        np.testing.assert_array_equal(f["v"][()], np.arange(11) * 1.5)  # same handle reads it
    with h5py.File(path, "r") as f:
        assert f["v"].shape == (11,)
        np.testing.assert_array_equal(f["v"][()], np.arange(11) * 1.5)
        assert f["t"][()].tolist() == [f"r{i}".encode() for i in range(11)]


def test_filtered_or_multidimensional_datasets_are_refused(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "c.h5", "w") as f:
        packed = f.create_dataset(
            "z", shape=(0,), maxshape=(None,), chunks=(4,), dtype="f8", compression="gzip"
        )
        image = f.create_dataset("i", (0, 2), "f8", maxshape=(None, 2), chunks=(1, 2))
        assert not chunk_writable(packed) and not chunk_writable(image)
        with pytest.raises(ValueError, match="unfiltered"):
            ColumnChunk(packed, 0)


def _contents(path: Path) -> dict[str, bytes]:
    """Every dataset's values as bytes (NaN payloads and signed zeros included), the event
    log's times left out."""
    out: dict[str, bytes] = {}
    with h5py.File(path, "r") as f:

        def visit(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset) and name not in ("entry/start_time", "entry/events"):
                out[name] = np.ascontiguousarray(obj[()]).tobytes()

        f.visititems(visit)
    return out


def test_rows_through_hdf5s_own_write_path_store_what_finished_chunks_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer hands HDF5 finished chunks; a column or stack it cannot (filters it does
    not encode, another chunk shape) takes HDF5's own row write instead. Both paths store
    the same values, dark frame reused or not, fits present or not."""
    from storage_support import make_metadata, make_record

    from tamrig.storage import ScanWriter, chunks, writer

    def write(path: Path) -> None:
        md = make_metadata(6, (16, 16))
        with ScanWriter.create(path, md) as scan:
            for i in range(6):
                scan.write_point(make_record(i, md, fit=i != 2))
            scan.finish("finished")  # the end time is the only other difference

    write(tmp_path / "direct.h5")
    with monkeypatch.context() as patched:
        patched.setattr(writer, "chunk_writable", lambda ds: False)
        patched.setattr(chunks, "deflate_level", lambda ds: None)
        patched.setattr(chunks, "unfiltered_images", lambda ds: False)
        write(tmp_path / "through_hdf5.h5")
    direct, through = _contents(tmp_path / "direct.h5"), _contents(tmp_path / "through_hdf5.h5")
    direct.pop("entry/end_time")
    through.pop("entry/end_time")
    assert direct.keys() == through.keys()
    assert [k for k in direct if direct[k] != through[k]] == []
