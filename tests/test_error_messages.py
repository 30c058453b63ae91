"""The exact words of the core modules' refusals: what a user reads when the accumulator,
the fit, the scan file or the engine is given something it cannot use."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from storage_support import make_frames, make_metadata, make_record
from test_engine import start, tiny_plan

from tamrig.acquisition.accumulator import DifferentialAccumulator
from tamrig.analysis.fitting import fit_gaussian
from tamrig.engine import ScanEngine
from tamrig.errors import InputError, StorageError
from tamrig.rig import Rig
from tamrig.storage import ScanWriter


def exactly(text: str) -> str:
    return f"^{re.escape(text)}$"


def test_accumulator_refusals() -> None:
    with pytest.raises(ValueError, match=exactly("threads must be within 1..2")):
        DifferentialAccumulator((4, 5), threads=3)
    with pytest.raises(ValueError, match=exactly("dark frame shape (5, 4) != image shape (4, 5)")):
        DifferentialAccumulator((4, 5), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=exactly("norm_mask shape (4, 4) != image shape (4, 5)")):
        DifferentialAccumulator((4, 5), norm_mask=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match=exactly("norm_mask selects no pixel")):
        DifferentialAccumulator((4, 5), norm_mask=np.zeros((4, 5), bool))


def test_fit_refusals() -> None:
    with pytest.raises(
        ValueError, match=exactly("image: expected a 2-D array indexed [y, x], got ndim=1")
    ):
        fit_gaussian(np.zeros(9), 50.0)
    with pytest.raises(
        ValueError, match=exactly("image: expected at least 3×3 pixels, got shape (2, 5)")
    ):
        fit_gaussian(np.zeros((2, 5)), 50.0)
    with pytest.raises(
        ValueError, match=exactly("pixel_size_nm: expected a finite number > 0, got -50.0")
    ):
        fit_gaussian(np.zeros((8, 8)), -50.0)
    with pytest.raises(
        ValueError, match=exactly("weights: expected shape (8, 8) like the image, got (8, 7)")
    ):
        fit_gaussian(np.zeros((8, 8)), 50.0, weights=np.ones((8, 7)))


def test_scan_file_refusals(tmp_path: Path) -> None:
    md = make_metadata()
    path = tmp_path / "scan.h5"
    with ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        with pytest.raises(StorageError, match=exactly(f"{path}: point 0 is already stored")):
            writer.write_point(make_record(0, md))
        with pytest.raises(
            StorageError,
            match=exactly(
                f"{path}: raw-frame recording is off for this scan "
                "(create the file with record_raw_frames=True)"
            ),
        ):
            writer.write_frames(1, make_frames(1, 4))
        with pytest.raises(
            ValueError,
            match=exactly("status must be one of ('finished', 'aborted', 'fault'), not 'done'"),
        ):
            writer.finish("done")
    with pytest.raises(StorageError, match=exactly(f"{path}: the scan file is closed")):
        writer.log_event("note", "after closing")
    with pytest.raises(
        StorageError,
        match=exactly(
            f"{path} already exists; choose another --out or pass --overwrite to replace it"
        ),
    ):
        ScanWriter.create(path, md)
    with pytest.raises(
        StorageError, match=exactly(f"{tmp_path} is a folder; expected a file name such as scan.h5")
    ):
        ScanWriter.create(tmp_path, md, overwrite=True)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = 1
    with pytest.raises(
        InputError,
        match=exactly(
            f"{other}: is an HDF5 file but not a tamrig scan (no scan metadata) "
            "(expected a tamrig scan file (.h5))"
        ),
    ):
        ScanWriter.resume(other)


def test_engine_refusals(sim_rig: Rig, tmp_path: Path) -> None:
    plan = tiny_plan()
    writer = ScanWriter.create(tmp_path / "never.h5", make_metadata())
    with writer, pytest.raises(ValueError, match=exactly("max_retries must be >= 0")):
        ScanEngine(sim_rig, plan, writer, max_retries=-1)
    with start(sim_rig, tmp_path) as scan:
        assert scan.run() == "finished"
        with pytest.raises(RuntimeError, match=exactly("a ScanEngine runs once; create a new one")):
            scan.engine.run()
