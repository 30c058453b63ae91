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
