"""Each image stack's compression is chosen by measuring its own images: noise stays raw,
constant or smooth images are deflated, and any HDF5 reader gets the same values back."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from storage_support import make_metadata, make_record

from tamrig.storage import ScanWriter
from tamrig.storage import layout as L
from tamrig.storage.chunks import MIN_SAVING, REMEASURE_POINTS, STORED, Compressibility


def test_noise_is_stored_unfiltered_and_flat_images_deflated(tmp_path: Path) -> None:
    md = make_metadata(n_points=6)
    records = [make_record(i, md) for i in range(6)]
    path = tmp_path / "scan.h5"
    with ScanWriter.create(path, md) as writer:
        for record in records:
            writer.write_point(record)
    with h5py.File(path, "r") as f:
        raw = 4 * np.prod(md.image_shape)
        ratio = {
            stack: max(f[stack].id.get_chunk_info(i).size for i in range(6)) / raw
            for stack in (f"{L.DATA}/dtt", f"{L.IMAGES}/pump_on_mean", f"{L.DATA}/dtt_errors")
        }
        # ΔT/T is noise around zero: deflate would save too little, the chunks are stored
        assert 1.0 <= ratio[f"{L.DATA}/dtt"] < 1.05  # zlib frame: a few bytes
        # counts near 1000: the shuffled exponent bytes repeat, deflate pays
        assert ratio[f"{L.IMAGES}/pump_on_mean"] < 1 - MIN_SAVING
        assert ratio[f"{L.DATA}/dtt_errors"] < 0.1  # a constant image
        for i, record in enumerate(records):  # bit-exact through HDF5's own reading path
            np.testing.assert_array_equal(
                f[f"{L.DATA}/dtt"][i], record.image.dtt.astype(np.float32)
            )
            np.testing.assert_array_equal(
                f[f"{L.DATA}/dtt_errors"][i], record.image.dtt_err.astype(np.float32)
            )


def test_nexusformat_reads_stored_and_deflated_chunks(tmp_path: Path) -> None:
    nx = pytest.importorskip("nexusformat.nexus")
    md = make_metadata(n_points=3)
    records = [make_record(i, md) for i in range(3)]
    path = tmp_path / "scan.h5"
    with ScanWriter.create(path, md) as writer:
        for record in records:
            writer.write_point(record)
    tree = nx.nxload(str(path))
    dtt = tree["entry/data/dtt"].nxdata
    errors = tree["entry/data/dtt_errors"].nxdata
    np.testing.assert_array_equal(dtt[2], records[2].image.dtt.astype(np.float32))
    np.testing.assert_array_equal(errors[1], records[1].image.dtt_err.astype(np.float32))


def test_compressibility_is_measured_again_after_a_while() -> None:
    choice = Compressibility()
    assert choice.measuring()
    assert not choice.measured(1000, int(1000 * (1 - MIN_SAVING)) + 1)
    assert [choice.measuring() for _ in range(REMEASURE_POINTS)] == [False] * REMEASURE_POINTS
    assert choice.level(4) == STORED
    assert choice.measuring()
    assert choice.measured(1000, 300)
    assert not choice.measuring() and choice.level(4) == 4
