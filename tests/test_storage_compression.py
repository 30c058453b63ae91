"""Each image stack's compression is chosen by measurement: noise stacks are unfiltered,
the others deflated only while deflate halves their images, and any HDF5 reader gets the
same values back."""

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
        stacks = (
            f"{L.DATA}/dtt",
            f"{L.DATA}/dtt_errors",
            f"{L.IMAGES}/pump_on_mean",
            f"{L.IMAGES}/dark_err",
        )
        ratio = {s: max(f[s].id.get_chunk_info(i).size for i in range(6)) / raw for s in stacks}
        # ΔT/T and the errors are noise by nature: no filter at all, a chunk is the image
        for stack in stacks[:2]:
            assert f[stack].compression is None and ratio[stack] == 1.0
        # counts near 1000 with noise: deflate saves ~1/3, less than half -> stored stream
        assert f[f"{L.IMAGES}/pump_on_mean"].compression == "gzip"
        assert 1.0 <= ratio[f"{L.IMAGES}/pump_on_mean"] < 1.05  # zlib frame: a few bytes
        assert ratio[f"{L.IMAGES}/dark_err"] < 1 - MIN_SAVING  # a constant image: deflated
        for i, record in enumerate(records):  # bit-exact through HDF5's own reading path
            for stack, image in (
                (f"{L.DATA}/dtt", record.image.dtt),
                (f"{L.DATA}/dtt_errors", record.image.dtt_err),
                (f"{L.IMAGES}/pump_on_mean", record.image.on_mean),
            ):
                np.testing.assert_array_equal(f[stack][i], image.astype(np.float32))


def test_nexusformat_reads_stored_and_deflated_chunks(tmp_path: Path) -> None:
    nx = pytest.importorskip("nexusformat.nexus")
    md = make_metadata(n_points=3)
    records = [make_record(i, md) for i in range(3)]
    path = tmp_path / "scan.h5"
    with ScanWriter.create(path, md) as writer:
        for record in records:
            writer.write_point(record)
    tree = nx.nxload(str(path))
    try:
        dtt = tree["entry/data/dtt"].nxdata  # unfiltered
        on_mean = tree["entry/images/pump_on_mean"].nxdata  # stored deflate streams
        dark_err = tree["entry/images/dark_err"].nxdata  # deflated
    finally:
        tree.nxfile.close()
    np.testing.assert_array_equal(dtt[2], records[2].image.dtt.astype(np.float32))
    np.testing.assert_array_equal(on_mean[1], records[1].image.on_mean.astype(np.float32))
    dark = records[2].image.dark_err
    assert dark is not None
    np.testing.assert_array_equal(dark_err[2], dark.astype(np.float32))


def test_compressibility_is_measured_again_after_a_while() -> None:
    choice = Compressibility()
    assert choice.measuring()
    assert not choice.measured(1000, int(1000 * (1 - MIN_SAVING)) + 1)
    assert [choice.measuring() for _ in range(REMEASURE_POINTS)] == [False] * REMEASURE_POINTS
    assert choice.level(4) == STORED
    assert choice.measuring()
    assert choice.measured(1000, 300)
    assert not choice.measuring() and choice.level(4) == 4
