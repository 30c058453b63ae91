"""Files written before the typed series / reference / fluence columns existed."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import h5py
import numpy as np
import pytest
from storage_support import make_metadata, make_record

from tamrig.errors import StorageError
from tamrig.storage import ScanWriter, open_scan
from tamrig.storage import layout as L
from tamrig.storage.soundness import check_scan_file

NEW_COLUMNS = ("series", "reference", "fluence_measured", "n_abs_measured")


def _old_style_file(path: Path, n: int = 4) -> None:
    """A file as the old writer left it: series, reference and fluences in the point JSON,
    the plan's ⟨N_abs⟩ (not µJ/cm²) in /entry/data/fluence."""
    md = make_metadata(n)
    with ScanWriter.create(path, md, format_version=1) as writer:
        for i in range(n):
            writer.write_point(make_record(i, md))
        writer.finish("aborted")
    with h5py.File(path, "r+") as f:
        for name in NEW_COLUMNS:
            del f[f"{L.DATA}/{name}"]
        for i in range(n):
            extra = {
                "series": f"905nm/N=0.045{' ref' if i == 0 else ''}",
                "reference": i == 0,
                "fluence_uj_cm2": 16.1,
                "fluence_unit": "n_abs",
            }
            if i % 2:
                extra["fluence_measured_uj_cm2"] = 16.0 + i
            f[L.POINT_JSON][i] = json.dumps({"extra": extra}).encode()
            f[f"{L.DATA}/fluence"][i] = 0.045


def test_old_file_reads_with_columns_rebuilt_from_the_point_json(tmp_path: Path) -> None:
    path = tmp_path / "old.h5"
    _old_style_file(path)
    assert check_scan_file(path).n_points == 4  # sound: an older file, not a damaged one
    with open_scan(path) as scan:
        assert {f"{L.DATA}/{n}" for n in NEW_COLUMNS} <= scan.missing_columns
        pts = scan.points()
    assert list(pts["fluence_uj_cm2"]) == [16.1] * 4  # never the plan's 0.045
    assert list(pts["reference"]) == [1, 0, 0, 0]
    assert pts["series"][0] == "905nm/N=0.045 ref" and pts["series"][1] == "905nm/N=0.045"
    assert pts["fluence_measured_uj_cm2"][1] == 17.0
    assert math.isnan(pts["fluence_measured_uj_cm2"][2])
    assert all(math.isnan(v) for v in pts["n_abs_measured"])


def test_old_file_is_not_resumed_and_is_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "old.h5"
    _old_style_file(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StorageError) as info:
        ScanWriter.resume(path)
    message = str(info.value)
    assert "older tamrig" in message and str(path) in message
    for name in NEW_COLUMNS:
        assert f"{L.DATA}/{name}" in message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_file_without_the_significance_column_counts_its_converged_fits(tmp_path: Path) -> None:
    """Scans written before noise points were flagged stay analysable: every converged fit
    counts as significant, as it did when they were written; a failed fit does not."""
    path = tmp_path / "older.h5"
    md = make_metadata(4)
    with ScanWriter.create(path, md, format_version=1) as writer:
        for i in range(4):
            writer.write_point(make_record(i, md))
        writer.finish("finished")
    with h5py.File(path, "r+") as f:
        del f[f"{L.FIT}/significant"]
        f[f"{L.FIT}/converged"][:4] = [1, 1, 0, 1]
    assert check_scan_file(path).n_points == 4  # older, not damaged
    with open_scan(path) as scan:
        assert f"{L.FIT}/significant" in scan.missing_columns
        pts = scan.points()
    assert pts["significant"].tolist() == [1, 1, 0, 1]


def test_version_1_file_reads_and_resumes_like_a_new_one(tmp_path: Path) -> None:
    """Format version 1 (every per-point column a dataset of its own) gives the same
    per-point mapping and positions as the current table layout, and still resumes."""
    md = make_metadata(4)
    old, new = tmp_path / "v1.h5", tmp_path / "v2.h5"
    for path, version in ((old, 1), (new, L.FORMAT_VERSION)):
        with ScanWriter.create(path, md, format_version=version) as writer:
            for i in range(3):
                writer.write_point(make_record(i, md))
            writer.finish("aborted")
        with ScanWriter.resume(path) as writer:
            writer.write_point(make_record(3, md))
    with h5py.File(old, "r") as f:
        assert L.TABLE not in f and L.FORMAT_ATTR not in f.attrs
        assert f"{L.DATA}/sweep" in f and L.position_path("stage_mm") in f
    with h5py.File(new, "r") as f:
        assert f.attrs[L.FORMAT_ATTR] == L.FORMAT_VERSION == 2
        assert f"{L.DATA}/sweep" not in f and "sweep" in (f[L.TABLE].dtype.names or ())
    assert check_scan_file(old).n_points == check_scan_file(new).n_points == 4
    with open_scan(old) as a, open_scan(new) as b:
        assert not a.missing_columns and not b.missing_columns
        pa, pb = a.points(), b.points()
        assert pa.keys() == pb.keys()
        for key in pa:
            assert pa[key].dtype == pb[key].dtype, key
            np.testing.assert_array_equal(pa[key], pb[key], err_msg=key)
        qa, qb = a.positions(), b.positions()
        assert qa.keys() == qb.keys() == set(md.position_names)
        for name in qa:
            np.testing.assert_array_equal(qa[name], qb[name])
        assert a.point_extra(2) == b.point_extra(2)
