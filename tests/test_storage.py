"""Scan file writer and reader: layout, round trips, NeXus readability, CSV export."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from storage_support import make_frames, make_metadata, make_record

from tamrig.devices import FrameBlock
from tamrig.errors import StorageError
from tamrig.storage import ScanMetadata, ScanWriter, open_scan


def _write(path: Path, n: int, *, raw: bool = False, status: str = "finished") -> ScanMetadata:
    md = make_metadata(n)
    with ScanWriter.create(path, md, record_raw_frames=raw) as writer:
        for i in range(n):
            if raw:
                writer.write_frames(i, make_frames(i, 3))
            writer.write_point(make_record(i, md))
        writer.log_event("pause", "paused by the user", index=1)
        writer.finish(status)
    return md


def test_points_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = _write(path, 6)
    with open_scan(path) as scan:
        assert scan.status == "finished"
        assert scan.end_time  # stamped by finish
        assert len(scan) == 6 and scan.indices() == list(range(6))
        pts = scan.points()
        for i in range(6):
            rec = make_record(i, md)
            assert pts["index"][i] == i
            assert pts["delay_fs"][i] == rec.delay_fs
            assert pts["delay_fs_measured"][i] == rec.delay_fs_measured
            assert pts["fluence_label"][i] == rec.fluence_label
            assert pts["fluence_uj_cm2"][i] == rec.fluence_uj_cm2
            assert pts["n_abs"][i] == rec.n_abs
            assert pts["attenuator_setting"][i] == rec.attenuator_setting
            assert pts["series"][i] == rec.series
            assert pts["reference"][i] == rec.reference
            assert pts["fluence_measured_uj_cm2"][i] == pytest.approx(
                rec.fluence_measured_uj_cm2, nan_ok=True
            )
            assert math.isnan(pts["n_abs_measured"][i])
            assert pts["sweep"][i] == rec.grid[0] and pts["delay_index"][i] == rec.grid[3]
            assert pts["sigma_nm"][i] == pytest.approx(rec.fit.sigma_nm)  # type: ignore[union-attr]
            assert pts["converged"][i] == (i != 3)
            if rec.transport is None:  # missing values are NaN, never zero
                assert math.isnan(pts["msd_nm2"][i]) and math.isnan(pts["sigma0_nm"][i])
            else:
                assert pts["msd_nm2"][i] == pytest.approx(rec.transport.msd_nm2)
            if rec.power_w is None:
                assert math.isnan(pts["power_w"][i])
            else:
                assert pts["power_w"][i] == pytest.approx(rec.power_w)
            np.testing.assert_allclose(scan.dtt(i), rec.image.dtt, rtol=1e-6, atol=1e-12)
            np.testing.assert_allclose(scan.dtt_err(i), rec.image.dtt_err, rtol=1e-6)
            np.testing.assert_allclose(
                scan.image("pump_off_mean", i), rec.image.off_mean, rtol=1e-6
            )
            dark = scan.image("dark_mean", i)
            assert np.isnan(dark).all() if rec.image.dark_mean is None else (dark == 100).all()
            assert scan.point_extra(i) == {"positions": {"filter_slot": 2.0}}
        np.testing.assert_allclose(scan.positions()["stage_mm"], 75.0 + np.arange(6) * 0.01)
        kinds = [e["kind"] for e in scan.events()]
        assert kinds == ["start", "pause", "finish"]
        assert scan.events()[1]["point_index"] == 1


def test_metadata_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = _write(path, 2)
    with open_scan(path) as scan:
        assert ScanMetadata.from_dict(scan.metadata) == md
        assert scan.plan == md.plan and scan.rig == md.rig
        assert scan.devices == md.devices and scan.calibration == md.calibration
    with h5py.File(path, "r") as f:
        assert f["/entry/rig_file/data"][()].decode() == md.rig_text
        assert f["/entry/program_name"].attrs["version"] == "0.1.0"
        assert f["/entry/sample/name"][()].decode() == "PbS QD film"
        assert f["/entry/data/delay_fs"].attrs["units"] == "fs"
        assert f["/entry/fit/diffusivity_cm2_s"].attrs["units"] == "cm2/s"
        assert f["/entry/data/fluence"].attrs["units"] == "uJ/cm2"
        # image axes: pixel centres from the pixel-0 corner, the frame of x0_nm / y0_nm
        a = md.pixel_size_nm
        np.testing.assert_allclose(f["/entry/data/x"][:3], [a / 2, 3 * a / 2, 5 * a / 2])
        assert f["/entry/data/y"][-1] == pytest.approx((md.image_shape[0] - 0.5) * a)
        assert "stage" in f["/entry/instrument"] and f.attrs["default"] == "entry"
    resumed = ScanWriter.resume(path)
    try:
        assert resumed.metadata == md
    finally:
        resumed.close()


def test_datasets_grow_row_by_row_without_preallocation(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = make_metadata(50)
    writer = ScanWriter.create(path, md)
    try:
        writer.write_point(make_record(0, md))
        writer.write_point(make_record(1, md))
        with h5py.File(path, "r", swmr=True) as f:
            for name in ("data/dtt", "data/delay_fs", "fit/sigma_nm", "images/dark_err", "points"):
                ds = f[f"/entry/{name}"]
                assert ds.shape[0] == 2 and ds.maxshape[0] is None
                assert ds.chunks is not None
                # Images that may compress go through deflate, noise stacks do not; the
                # 1-D columns and the table never (recompressing their growing chunks at
                # every per-point flush cost more than it saved).
                assert ds.compression == ("gzip" if name == "images/dark_err" else None)
    finally:
        writer.close()


def test_nexus_reader_recognises_signal_and_axes(tmp_path: Path) -> None:
    from nexusformat.nexus import nxload

    path = tmp_path / "scan.h5"
    _write(path, 4)
    root = nxload(str(path))
    try:
        data = root.entry.data
        assert data.nxsignal.nxname == "dtt" and data.nxsignal.shape == (4, 12, 10)
        assert [a.nxname for a in data.nxaxes] == ["delay_fs", "y", "x"]
        assert data.nxerrors.nxname == "dtt_errors"
        fit = root.entry.fit
        assert fit.nxsignal.nxname == "msd_nm2"
        assert [a.nxname for a in fit.nxaxes] == ["delay_fs"]
        np.testing.assert_array_equal(fit.delay_fs.nxvalue, data.delay_fs.nxvalue)
        assert root.entry.nxclass == "NXentry" and root.entry.start_time.nxvalue
    finally:
        root.nxfile.close()


def test_generic_readers_read_the_contract_columns_and_the_table(tmp_path: Path) -> None:
    """nexusformat and silx, no tamrig and no plugin: the NXdata signal and axes, the fit
    columns on the same grid and the compound table of the other columns -- silx while the
    scan is still being written."""
    from nexusformat.nexus import nxload
    from silx.io import open as silx_open
    from silx.io.nxdata import NXdata

    path = tmp_path / "scan.h5"
    md = make_metadata(4)
    records = [make_record(i, md) for i in range(4)]
    writer = ScanWriter.create(path, md)
    try:
        for record in records[:3]:
            writer.write_point(record)
        with silx_open(str(path)) as live:
            data = NXdata(live["/entry/data"])
            assert data.is_valid and data.signal is not None
            assert data.signal.shape == (3, *md.image_shape)
            assert [a.name.rsplit("/", 1)[1] for a in data.axes] == ["delay_fs", "y", "x"]
            assert NXdata(live["/entry/fit"]).is_valid
            np.testing.assert_array_equal(
                live["/entry/fit/sigma_nm"][()],
                [r.fit.sigma_nm for r in records[:3]],  # type: ignore[union-attr]
            )
            assert live["/entry/points"]["sweep"].tolist() == [r.grid[0] for r in records[:3]]
        writer.write_point(records[3])
    finally:
        writer.close()
    root = nxload(str(path))
    try:
        data, fit = root.entry.data, root.entry.fit
        assert data.nxsignal.nxname == "dtt" and data.nxsignal.shape == (4, *md.image_shape)
        expected = {
            "delay_fs": [r.delay_fs for r in records],
            "fluence": [r.fluence_uj_cm2 for r in records],
            "probe_wavelength_nm": [r.probe_wavelength_nm for r in records],
        }
        for name, values in expected.items():
            np.testing.assert_allclose(data[name].nxvalue, values)
        for name in ("sigma_nm", "sigma_err_nm", "msd_nm2", "diffusivity_cm2_s"):
            assert fit[name].shape == (4,)
        fits = [r.fit for r in records]
        assert all(f is not None for f in fits)
        errs = [f.sigma_err_nm for f in fits if f is not None]
        np.testing.assert_allclose(fit.sigma_err_nm.nxvalue, np.asarray(errs))
        table = root.entry.points.nxvalue
        assert table.shape == (4,) and table["amplitude"][1] == records[1].fit.amplitude  # type: ignore[union-attr]
    finally:
        root.nxfile.close()


def test_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = _write(path, 5)
    out = tmp_path / "fits.csv"
    with open_scan(path) as scan:
        scan.export_csv(out)
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5
    assert "sigma_nm [nm]" in rows[0] and "diffusivity_cm2_s [cm2/s]" in rows[0]
    for i, row in enumerate(rows):
        rec = make_record(i, md)
        assert int(row["index"]) == i
        assert float(row["sigma_nm [nm]"]) == pytest.approx(rec.fit.sigma_nm)  # type: ignore[union-attr]
        assert row["fluence_label"] == rec.fluence_label
        msd = row["msd_nm2 [nm2]"]
        assert msd == "" if rec.transport is None else float(msd) == rec.transport.msd_nm2


def test_existing_file_is_never_overwritten_silently(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    _write(path, 2)
    before = path.read_bytes()
    with pytest.raises(StorageError, match=r"already exists.*--overwrite"):
        ScanWriter.create(path, make_metadata())
    assert path.read_bytes() == before
    writer = ScanWriter.create(path, make_metadata(), overwrite=True)
    writer.close()  # no point stored: the old scan stays, the side file goes
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]
    md = make_metadata()
    with ScanWriter.create(path, md, overwrite=True) as writer:
        assert path.read_bytes() == before  # replaced only once a point is stored
        writer.write_point(make_record(0, md))
    with open_scan(path) as scan:
        assert len(scan) == 1 and scan.status == "finished"
    assert sorted(tmp_path.iterdir()) == [path]


def test_live_file_is_not_overwritten_and_stale_side_files_go(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f".scan.h5.{int(dead.stdout)}.tmp"  # left by a creator killed early
    stale.write_bytes(b"partial")
    with ScanWriter.create(path, make_metadata()):
        assert not stale.exists()
        with pytest.raises(StorageError, match="being written by a running scan"):
            ScanWriter.create(path, make_metadata(), overwrite=True)


def test_bad_points_are_refused(tmp_path: Path) -> None:
    md = make_metadata()
    with ScanWriter.create(tmp_path / "scan.h5", md) as writer:
        writer.write_point(make_record(0, md))
        with pytest.raises(StorageError, match="point 0 is already stored"):
            writer.write_point(make_record(0, md))
        wrong = make_record(1, make_metadata(shape=(8, 8)))
        with pytest.raises(StorageError, match=r"shape \(8, 8\).*expected \(12, 10\)"):
            writer.write_point(wrong)
        with pytest.raises(StorageError, match="raw-frame recording is off"):
            writer.write_frames(1, make_frames(1, 2))
        writer.write_point(make_record(1, md))
        assert writer.completed_indices() == {0, 1}


def test_raw_frames_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    _write(path, 3, raw=True)
    with open_scan(path) as scan:
        assert scan.has_raw_frames
        for i in range(3):
            np.testing.assert_array_equal(scan.frames(i), make_frames(i, 3).data)
        table = scan.frame_table()
        np.testing.assert_array_equal(table["point_index"], np.repeat(np.arange(3), 3))
        np.testing.assert_array_equal(table["pump_on"], np.tile([1, 0, 1], 3))
        np.testing.assert_array_equal(
            table["frame_id"], np.concatenate([np.arange(3 * i, 3 * i + 3) for i in range(3)])
        )
    with h5py.File(path, "r") as f:
        assert f["/entry/instrument/raw_frames/data"].compression is None


def test_context_manager_marks_fault_on_exception(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = make_metadata()
    with pytest.raises(RuntimeError), ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        raise RuntimeError("stage stalled")
    with open_scan(path) as scan:
        assert scan.status == "fault" and len(scan) == 1


def test_resume_continues_appending(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = make_metadata(6)
    with ScanWriter.create(path, md) as writer:
        for i in range(3):
            writer.write_point(make_record(i, md))
        writer.finish("aborted")
    with ScanWriter.resume(path) as writer:
        assert writer.completed_indices() == {0, 1, 2}
        for i in range(3, 6):
            writer.write_point(make_record(i, md))
    with open_scan(path) as scan:
        assert scan.status == "finished" and scan.indices() == list(range(6))
        assert [e["kind"] for e in scan.events()] == ["start", "finish", "resume", "finish"]
        assert scan.events()[2]["message"] == (
            "resumed with 3 completed points (discarded 0 incomplete row(s), 0 raw frame(s))"
        )


def test_open_scan_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"missing\.h5"):
        open_scan(tmp_path / "missing.h5")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = 1
    with pytest.raises(StorageError, match="not a tamrig scan file"):
        open_scan(other)
    _write(tmp_path / "scan.h5", 2)
    with open_scan(tmp_path / "scan.h5") as scan, pytest.raises(StorageError, match="point 7"):
        scan.dtt(7)


def test_events_from_another_thread_interleave_safely(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = make_metadata(30)
    with ScanWriter.create(path, md) as writer:

        def log_many() -> None:
            for k in range(40):
                writer.log_event("pause", f"note {k}")

        thread = threading.Thread(target=log_many)
        thread.start()
        for i in range(30):
            writer.write_point(make_record(i, md))
        thread.join()
    with open_scan(path) as scan:
        assert scan.indices() == list(range(30))
        notes = [e["message"] for e in scan.events() if e["kind"] == "pause"]
        assert notes == [f"note {k}" for k in range(40)]


def test_same_process_reader_sees_points_while_the_writer_runs(tmp_path: Path) -> None:
    """The GUI's browser and the engine may share one process and one file."""
    path = tmp_path / "scan.h5"
    md = make_metadata(4)
    with ScanWriter.create(path, md) as writer, open_scan(path) as scan:
        assert len(scan) == 0 and scan.status == "running"
        for i in range(4):
            writer.write_point(make_record(i, md))
            scan.refresh()
            assert scan.indices() == list(range(i + 1))
            np.testing.assert_allclose(scan.dtt(i), make_record(i, md).image.dtt, rtol=1e-6)
        with pytest.raises(StorageError, match="still being written"):
            ScanWriter.resume(path)
        writer.finish("aborted")
        scan.refresh()
        assert scan.status == "aborted"


def test_one_frame_and_untagged_blocks_are_recorded(tmp_path: Path) -> None:
    """A block of a single frame is stored like any other; frames from a camera without a
    pump-state tag are stored with pump_on = -1 (unknown), not as pump off."""
    path = tmp_path / "scan.h5"
    md = make_metadata(2)
    single = make_frames(0, 1)
    untagged = make_frames(7, 3)
    untagged = FrameBlock(untagged.data, untagged.frame_id, untagged.timestamp_s, pump_on=None)
    with ScanWriter.create(path, md, record_raw_frames=True) as writer:
        writer.write_frames(0, single)
        writer.write_frames(0, untagged)
        writer.write_point(make_record(0, md))
        assert writer.n_frames == 4
    with open_scan(path) as scan:
        np.testing.assert_array_equal(scan.frames(0), np.concatenate([single.data, untagged.data]))
        table = scan.frame_table()
        np.testing.assert_array_equal(table["pump_on"], [1, -1, -1, -1])
        np.testing.assert_array_equal(table["frame_id"], [0, 21, 22, 23])
        np.testing.assert_array_equal(table["point_index"], [0, 0, 0, 0])
        np.testing.assert_allclose(table["frame_time"], [0.0, 0.105, 0.11, 0.115])


def _killed_mid_point(path: Path, md: ScanMetadata, points: int) -> None:
    """Write ``points`` points with their raw frames, then the frames of the next point,
    and die without closing (as under kill -9): a forked process that never returns."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends in os._exit either way
        code = 1
        try:
            writer = ScanWriter.create(path, md, record_raw_frames=True)
            for i in range(points):
                writer.write_frames(i, make_frames(i, 4))
                writer.write_point(make_record(i, md))
            writer.write_frames(points, make_frames(points, 4))
            writer.write_frames(points, make_frames(points + 50, 2))
            writer.flush()  # the unfinished point's frames are on disk
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_resume_after_a_kill_mid_point_cuts_that_points_raw_frames(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = make_metadata(5)
    _killed_mid_point(path, md, points=3)
    with ScanWriter.resume(path) as writer:
        assert writer.completed_indices() == {0, 1, 2}
        assert writer.n_frames == 12  # the 6 frames of the unfinished point 3 are gone
        for i in range(3, 5):
            writer.write_frames(i, make_frames(100 + i, 4))
            writer.write_point(make_record(i, md))
    with open_scan(path) as scan:
        assert scan.status == "finished" and scan.indices() == list(range(5))
        for i in range(3):
            np.testing.assert_array_equal(scan.frames(i), make_frames(i, 4).data)
        for i in range(3, 5):
            np.testing.assert_array_equal(scan.frames(i), make_frames(100 + i, 4).data)
        table = scan.frame_table()
        np.testing.assert_array_equal(table["point_index"], np.repeat(np.arange(5), 4))
        (resumed,) = [e for e in scan.events() if e["kind"] == "resume"]
        assert resumed["message"] == (
            "resumed with 3 completed points (discarded 0 incomplete row(s), 6 raw frame(s))"
        )


def test_a_folder_is_not_a_scan_file_name(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    with pytest.raises(StorageError, match=r"scans is a folder; expected a file name"):
        ScanWriter.create(folder, make_metadata(), overwrite=True)
    assert list(folder.iterdir()) == []


def test_writer_refuses_what_does_not_fit_and_stops_after_close(tmp_path: Path) -> None:
    md = make_metadata(3)
    path = tmp_path / "scan.h5"
    writer = ScanWriter.create(path, md, record_raw_frames=True)
    with writer:
        wrong = make_frames(0, 2, (6, 5))
        with pytest.raises(StorageError, match=r"frame block of shape \(2, 6, 5\) does not match"):
            writer.write_frames(0, wrong)
        writer.write_frames(0, make_frames(0, 0))  # an empty block is no frame
        assert writer.n_frames == 0
        with pytest.raises(ValueError, match="status must be one of"):
            writer.finish("done")
        writer.write_point(make_record(0, md))
    writer.close()  # closing twice is harmless
    with pytest.raises(StorageError, match="the scan file is closed"):
        writer.write_point(make_record(1, md))
    with pytest.raises(StorageError, match="the scan file is closed"):
        writer.log_event("note", "after the end")
    with open_scan(path) as scan:
        assert scan.status == "finished" and scan.indices() == [0]
        assert scan.frame_table()["frame_id"].size == 0


def test_ctrl_c_inside_the_writer_marks_the_scan_aborted(tmp_path: Path) -> None:
    md = make_metadata(3)
    path = tmp_path / "scan.h5"
    with pytest.raises(KeyboardInterrupt), ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        raise KeyboardInterrupt
    with open_scan(path) as scan:
        assert scan.status == "aborted" and scan.indices() == [0]
        assert scan.events()[-1]["message"] == "scan aborted: 1 points stored"


def test_extra_positions_too_long_for_a_row_keep_their_names(tmp_path: Path) -> None:
    md = make_metadata(2)
    path = tmp_path / "scan.h5"
    record = make_record(1, md)
    record.positions.update({f"axis_{k:03d}": float(k) for k in range(400)})
    with ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        writer.write_point(record)
    with open_scan(path) as scan:
        assert scan.point_extra(0) == {"positions": {"filter_slot": 2.0}}
        kept = scan.point_extra(1)
        names = sorted(["filter_slot", *(f"axis_{k:03d}" for k in range(400))])
        assert kept["truncated"] is True and kept["n_keys"] == 401
        assert 100 < len(kept["keys"]) < 401  # as many names as fit in the row's cell
        assert kept["keys"] == names[: len(kept["keys"])]
        (note,) = [e for e in scan.events() if e["kind"] == "storage"]
        assert note["point_index"] == 1
        assert note["message"] == "per-point positions too long; kept names only"


def test_the_file_names_itself_not_its_side_file(tmp_path: Path) -> None:
    """The root's file_name attribute is the scan's path, also when an existing scan was
    overwritten through a side file that was renamed onto it."""
    path = tmp_path / "named.h5"
    for _ in range(2):  # the second creation goes through the side file
        md = make_metadata(1)
        with ScanWriter.create(path, md, overwrite=True) as writer:
            writer.write_point(make_record(0, md))
            writer.finish("finished")
        with h5py.File(path, "r") as f:
            assert f.attrs["file_name"] == str(path)


def test_events_carry_their_time_and_minus_one_without_a_point(tmp_path: Path) -> None:
    path = tmp_path / "scan.h5"
    md = make_metadata(2)
    before = time.time()
    with ScanWriter.create(path, md) as writer:
        writer.log_event("note", "no point")
        writer.write_point(make_record(0, md))
        writer.log_event("note", "with a point", index=0)
    after = time.time()
    with open_scan(path) as scan:
        events = scan.events()
    assert [(e["kind"], e["point_index"]) for e in events] == [
        ("start", -1),
        ("note", -1),
        ("note", 0),
        ("finish", -1),
    ]
    times = [e["time"] for e in events]
    assert before <= times[0] and times == sorted(times) and times[-1] <= after


def test_a_point_is_refused_when_the_disk_cannot_take_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Room for less than twice a point's images (HDF5 may write a chunk twice): refused
    before anything is written, the completed points kept. (The disk fills behind the
    writer's back: the room is measured before every point here.)"""
    from tamrig.storage import space

    md = make_metadata(3, shape=(128, 128))
    image_bytes = 8 * 128 * 128 * 4  # eight float32 image stacks per point
    path = tmp_path / "scan.h5"
    room = {"bytes": 2**40}
    monkeypatch.setattr(space, "free_bytes", lambda _path: (room["bytes"], "free"))
    monkeypatch.setattr(space, "RECHECK_S", 0.0)
    with ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        room["bytes"] = space.HEADROOM + 3 * image_bytes // 2
        with pytest.raises(StorageError, match="not enough space to store point 1"):
            writer.write_point(make_record(1, md))
        room["bytes"] = space.HEADROOM + 3 * image_bytes
        writer.write_point(make_record(1, md))
    with open_scan(path) as scan:
        assert scan.indices() == [0, 1]


def test_raw_frames_are_refused_when_the_disk_cannot_take_twice_their_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tamrig.storage import space

    md = make_metadata(2, shape=(128, 128))
    block = make_frames(0, 16, (128, 128))
    raw_bytes = 16 * 128 * 128 * 4  # stored as uint32
    room = {"bytes": 2**40}
    monkeypatch.setattr(space, "free_bytes", lambda _path: (room["bytes"], "free"))
    monkeypatch.setattr(space, "RECHECK_S", 0.0)
    with ScanWriter.create(tmp_path / "scan.h5", md, record_raw_frames=True) as writer:
        room["bytes"] = space.HEADROOM + raw_bytes
        with pytest.raises(StorageError, match="not enough space to store raw frames of point 0"):
            writer.write_frames(0, block)
        assert writer.n_frames == 0
        room["bytes"] = space.HEADROOM + 2 * raw_bytes
        writer.write_frames(0, block)
        assert writer.n_frames == 16


def test_a_new_scan_file_needs_a_mebibyte_of_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tamrig.storage import space

    room = {"bytes": space.HEADROOM + 2**19}
    monkeypatch.setattr(space, "free_bytes", lambda _path: (room["bytes"], "free"))
    path = tmp_path / "scan.h5"
    with pytest.raises(StorageError) as refused:
        ScanWriter.create(path, make_metadata())
    # no file yet, so no "completed points kept" to speak of
    assert str(refused.value) == (
        f"{path}: not enough space to store the new scan file: 2.5 MiB free, 3.0 MiB needed "
        "(disk full?). The scan does not start; nothing was written."
    )
    assert list(tmp_path.iterdir()) == []
    room["bytes"] = space.HEADROOM + 2**20  # exactly enough
    writer = ScanWriter.create(path, make_metadata())
    writer.close()


def test_a_side_file_of_a_live_creator_is_left_alone(tmp_path: Path) -> None:
    """Another process still building its scan file: its side file stays, and that process
    is only asked whether it lives (signal 0), never signalled."""
    marker = tmp_path / "signalled"
    child = (
        "import pathlib, signal, sys, time\n"
        f"signal.signal(signal.SIGHUP, lambda *_: pathlib.Path({str(marker)!r}).touch())\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline() == "ready\n"
        side = tmp_path / f".scan.h5.{other.pid}.tmp"
        side.write_bytes(b"being built")
        with ScanWriter.create(tmp_path / "scan.h5", make_metadata()):
            assert side.read_bytes() == b"being built"
        assert other.poll() is None and not marker.exists()
    finally:
        other.kill()
        other.wait()


def test_a_copy_cut_short_is_refused_not_read_as_zeros(tmp_path: Path) -> None:
    """ΔT/T has no filter that would fail on missing bytes: the reader checks that the
    rows it returns lie inside the file."""
    path = tmp_path / "scan.h5"
    _write(path, 6)
    with h5py.File(path, "r") as f:  # cut inside the last ΔT/T image
        end = f["/entry/data/dtt"].id.get_chunk_info_by_coord((5, 0, 0)).byte_offset + 8
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[:end])
    with pytest.raises(StorageError, match="cut short"), open_scan(cut) as scan:
        for i in scan.indices():
            scan.dtt(i)


def test_a_closed_scan_file_refuses_frames_and_tells_whether_it_was_finished(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scan.h5"
    md = make_metadata(2)
    writer = ScanWriter.create(path, md, record_raw_frames=True)
    assert writer.finished is False
    writer.write_frames(0, make_frames(0, 2))
    writer.write_point(make_record(0, md))
    writer.finish("aborted")
    assert writer.finished is True
    writer.close()
    with pytest.raises(StorageError) as refused:
        writer.write_frames(1, make_frames(1, 2))
    assert str(refused.value) == f"{path}: the scan file is closed"
    with open_scan(path) as scan:
        assert len(scan.frame_table()["frame_id"]) == 2


def test_an_event_kind_is_cut_to_its_32_bytes_between_characters(tmp_path: Path) -> None:
    """The kind column holds 32 bytes of UTF-8: a character that would straddle the end is
    dropped whole, never stored half (a reader would see a replacement character)."""
    path = tmp_path / "scan.h5"
    md = make_metadata(2)
    with ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        writer.log_event("x" * 31 + "é", "a kind too long", 0)
        writer.log_event("k" * 32, "a kind of exactly 32 bytes")
    with open_scan(path) as scan:
        kinds = {e["message"]: e["kind"] for e in scan.events()}
    assert kinds["a kind too long"] == "x" * 31
    assert kinds["a kind of exactly 32 bytes"] == "k" * 32


def test_resume_cuts_the_rows_a_killed_writer_left_without_their_completed_flag(
    tmp_path: Path,
) -> None:
    """Killed while writing point 2: its images are in, its completed flag is not. Resume
    cuts every row dataset back to the completed points and says how many rows it dropped."""
    from tamrig.storage import layout as L

    path = tmp_path / "scan.h5"
    md = make_metadata(4)
    writer = ScanWriter.create(path, md)
    for i in range(2):
        writer.write_point(make_record(i, md))
    writer.close()
    with h5py.File(path, "r+") as f:
        for name in ("dtt", "dtt_errors"):
            ds = f[f"/entry/data/{name}"]
            ds.resize((3, *ds.shape[1:]))
        rows = L.row_datasets(f, md.position_names)
    ScanWriter.resume(path).close()
    with h5py.File(path, "r") as f:
        assert {p: f[p].shape[0] for p in rows} == dict.fromkeys(rows, 2)
    with open_scan(path) as scan:
        assert scan.events()[-1]["message"] == (
            "resumed with 2 completed points (discarded 1 incomplete row(s), 0 raw frame(s))"
        )
