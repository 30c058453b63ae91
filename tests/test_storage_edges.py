"""A scan file whose creation fails: what the user reads, and what is left on disk and open."""

from __future__ import annotations

import dataclasses
import errno
import re
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from storage_support import make_frames, make_metadata, make_record

from tamrig.errors import StorageError
from tamrig.storage import ScanWriter, open_scan, space
from tamrig.storage import writer as writer_module
from tamrig.storage.rows import point_row


def test_a_creation_failing_after_the_side_file_was_opened_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while the new file's tree is built: the error says so, and neither
    the scan file nor its side file exists afterwards."""

    def disk_full(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer_module.skeleton, "build", disk_full)
    path = tmp_path / "scan.h5"
    with pytest.raises(StorageError) as caught:
        ScanWriter.create(path, make_metadata())
    assert str(caught.value) == (
        f"cannot create {path}: No space left on device (disk full or file-size limit reached)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            OSError(errno.EDQUOT, "Disk quota exceeded"),
            r"Disk quota exceeded \(disk full or file-size limit reached\)",
        ),
        (
            OSError(errno.EFBIG, "File too large"),
            r"File too large \(disk full or file-size limit reached\)",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied"),
            r"\[Errno 13\] Permission denied \(no write permission\? \d+ MiB free on the disk\)",
        ),
        (
            RuntimeError("Unable to create file (unknown)"),
            r"Unable to create file \(unknown\) \((write refused by the system|disk full)\? "
            r"\d+ MiB free on the disk\)",
        ),
    ],
)
def test_a_creation_refused_by_the_system_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, words: str
) -> None:
    """The side file cannot even be opened: the system's reason in words, and the scan
    file is not there."""

    def refuse(*_args: Any, **_kwargs: Any) -> h5py.File:
        raise error

    monkeypatch.setattr(writer_module.h5py, "File", refuse)
    path = tmp_path / "scan.h5"
    with pytest.raises(StorageError) as caught:
        ScanWriter.create(path, make_metadata())
    assert re.fullmatch(f"cannot create {re.escape(str(path))}: {words}", str(caught.value))
    assert not path.exists()


def test_raw_frames_up_to_the_files_largest_count_are_kept_and_beyond_refused(
    tmp_path: Path,
) -> None:
    """A 64-bit block into a file of 32-bit frames: counts up to 2³² − 1 fit and come back
    exactly; one count more is refused rather than stored truncated."""
    md = make_metadata()
    path = tmp_path / "scan.h5"
    with ScanWriter.create(path, md, record_raw_frames=True) as writer:
        block = make_frames(0, 2)
        full = dataclasses.replace(block, data=block.data.astype(np.uint64))
        full.data[1, 3, 4] = 2**32 - 1
        writer.write_frames(0, full)
        writer.write_point(make_record(0, md))
        over = dataclasses.replace(full, data=full.data.copy())
        over.data[0, 0, 0] = 2**32
        with pytest.raises(StorageError) as caught:
            writer.write_frames(1, over)
        assert str(caught.value) == (
            f"{path}: raw frames of point 1 reach 4294967296 counts, more than the file's uint32 "
            "frames hold; not storing them truncated"
        )
    with open_scan(path) as f:
        np.testing.assert_array_equal(f.frames(0), full.data)


def test_a_failed_point_write_stops_writing_and_says_why_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while point 1 is flushed: that point fails with the reason and the
    count of points kept, and every later write names the earlier failure."""
    md = make_metadata()
    path = tmp_path / "scan.h5"
    writer = ScanWriter.create(path, md)
    writer.write_point(make_record(0, md))

    def disk_full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer._file, "flush", disk_full)
    reason = "No space left on device (disk full or file-size limit reached)"
    with pytest.raises(StorageError) as caught:
        writer.write_point(make_record(1, md))
    assert str(caught.value) == (
        f"{path}: writing point 1 failed: {reason}. Writing has stopped; the 1 completed "
        "point(s) already in the file are kept."
    )
    with pytest.raises(StorageError) as caught:
        writer.log_event("note", "after the failure")
    assert str(caught.value) == (
        f"{path}: writing stopped after an earlier failure (writing point 1: {reason})"
    )
    writer.close()  # after a failure closing does not raise again


@pytest.mark.parametrize(
    ("free_mib", "hint"), [(63.9, "disk full"), (64.0, "write refused by the system")]
)
def test_an_unexplained_refusal_guesses_a_full_disk_below_64_mib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_mib: float, hint: str
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> h5py.File:
        raise RuntimeError("Unable to create file (unknown)")

    usage = shutil.disk_usage(tmp_path)._replace(free=int(free_mib * 2**20))
    monkeypatch.setattr(writer_module.h5py, "File", refuse)
    monkeypatch.setattr(writer_module.shutil, "disk_usage", lambda _path: usage)
    path = tmp_path / "scan.h5"
    with pytest.raises(StorageError) as caught:
        ScanWriter.create(path, make_metadata())
    assert str(caught.value) == (
        f"cannot create {path}: Unable to create file (unknown) "
        f"({hint}? {free_mib:.0f} MiB free on the disk)"
    )


def test_a_point_is_stored_only_with_room_for_twice_its_images_and_a_margin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-ahead before each point: twice the point's float32 images, 64 KiB for its
    table row and columns, and the headroom for the file's end. One byte less: refused
    before anything is written, the points so far kept."""
    md = make_metadata()
    path = tmp_path / "scan.h5"
    images = point_row(make_record(1, md), md).images
    needed = 2 * sum(np.size(im) for im in images.values()) * 4 + 2**16 + space.HEADROOM
    room = {"bytes": 10 * 2**30}
    monkeypatch.setattr(space, "free_bytes", lambda _path: (room["bytes"], "free"))
    monkeypatch.setattr(space, "RECHECK_S", 0.0)  # measured before every point
    with ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        room["bytes"] = needed - 1
        with pytest.raises(StorageError) as caught:
            writer.write_point(make_record(1, md))
        assert str(caught.value).startswith(f"{path}: not enough space to store point 1: ")
        assert str(caught.value).endswith("the 1 completed point(s) already in the file are kept.")
        room["bytes"] = needed
        writer.write_point(make_record(1, md))
    with open_scan(path) as f:
        assert sorted(f.indices()) == [0, 1]


def test_the_room_is_measured_again_before_the_writes_since_could_have_used_it_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between measurements the writer counts each point's look-ahead as written: with
    room for two points (and the headroom) it measures before the first and the third
    point, not the second; the third finds the disk as full as counted and is refused."""
    md = make_metadata(4)
    path = tmp_path / "scan.h5"
    per_point = 2 * 8 * md.image_shape[0] * md.image_shape[1] * 4 + 2**16
    measured: list[int] = []
    room = {"bytes": 10 * 2**30}

    def free(_path: Path) -> tuple[int, str]:
        measured.append(room["bytes"])
        return room["bytes"], "free"

    monkeypatch.setattr(space, "free_bytes", free)
    monkeypatch.setattr(space, "RECHECK_S", 3600.0)
    with ScanWriter.create(path, md) as writer:
        measured.clear()
        room["bytes"] = space.HEADROOM + 2 * per_point
        writer.write_point(make_record(0, md))
        writer.write_point(make_record(1, md))
        assert len(measured) == 1
        room["bytes"] = space.HEADROOM + per_point - 1  # the two points' worth, used
        with pytest.raises(StorageError, match="not enough space to store point 2"):
            writer.write_point(make_record(2, md))
        assert len(measured) == 2
        room["bytes"] = space.HEADROOM + per_point
        writer.write_point(make_record(2, md))  # measured again after a refusal
        assert len(measured) == 3


def test_the_room_is_measured_again_once_the_last_measurement_is_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program may fill the disk: a measurement older than RECHECK_S is not
    trusted, however much room it found."""
    md = make_metadata(3)
    clock = {"now": 1000.0}
    measured: list[float] = []
    monkeypatch.setattr(space, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(
        space, "free_bytes", lambda _path: (measured.append(clock["now"]) or 2**40, "free")
    )
    with ScanWriter.create(tmp_path / "scan.h5", md) as writer:
        measured.clear()
        writer.write_point(make_record(0, md))
        clock["now"] += space.RECHECK_S / 2
        writer.write_point(make_record(1, md))
        assert measured == [1000.0]
        clock["now"] += space.RECHECK_S / 2
        writer.write_point(make_record(2, md))
        assert measured == [1000.0, 1000.0 + space.RECHECK_S]
