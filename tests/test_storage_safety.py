"""Scan files survive what happens to real scans: live readers, kill -9, full disks.

The writer runs in a separate process (tests/storage_support.py) so readers really read
through SWMR, and kills and file-size limits hit a real process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from storage_support import make_metadata, make_record

from tamrig.errors import StorageError
from tamrig.storage import ScanMetadata, ScanWriter, open_scan, recover

SUPPORT = Path(__file__).with_name("storage_support.py")
REPO = SUPPORT.parent.parent


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, str(SUPPORT), "write", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _run(*args: str) -> tuple[int, list[str], str]:
    proc = _spawn(*args)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out.splitlines(), err


def _done(lines: list[str]) -> set[int]:
    return {int(line.split()[1]) for line in lines if line.startswith("done ")}


def _check_points(path: Path, expected: set[int], md: ScanMetadata) -> None:
    """Every acknowledged point is stored, and every stored point is exactly right."""
    with open_scan(path) as scan:
        stored = set(scan.indices())
        assert expected <= stored, f"lost points {sorted(expected - stored)}"
        assert ScanMetadata.from_dict(scan.metadata) == md
        pts = scan.points()
        for row, i in enumerate(pts["index"]):
            rec = make_record(int(i), md)
            np.testing.assert_allclose(scan.dtt(int(i)), rec.image.dtt, rtol=1e-6, atol=1e-12)
            assert pts["delay_fs"][row] == rec.delay_fs
            assert pts["sigma_nm"][row] == pytest.approx(rec.fit.sigma_nm)  # type: ignore[union-attr]


def test_reader_follows_a_running_scan_from_another_process(tmp_path: Path) -> None:
    path = tmp_path / "live.h5"
    n = 5
    md = make_metadata(n)
    proc = _spawn(str(path), str(n), "--lockstep", "--raw")
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "created"
        with open_scan(path) as scan:
            assert scan.swmr and scan.status == "running" and len(scan) == 0
            for i in range(n):
                proc.stdin.write("next\n")
                proc.stdin.flush()
                assert proc.stdout.readline().strip() == f"done {i}"
                scan.refresh()
                assert scan.indices() == list(range(i + 1))
                np.testing.assert_allclose(scan.dtt(i), make_record(i, md).image.dtt, rtol=1e-6)
                assert len(scan.frames(i)) == 4
                assert scan.status == "running"  # the writer process holds the file
                if i == 2:
                    with pytest.raises(StorageError, match="still being written"):
                        ScanWriter.resume(path)  # two writers would corrupt the file
            proc.stdin.write("next\n")
            proc.stdin.flush()
            assert proc.wait(timeout=60) == 0
            scan.refresh()
            assert scan.status == "finished" and scan.end_time
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_9_at_random_moments_never_loses_a_completed_point(tmp_path: Path) -> None:
    """Kill the writer at random HDF5 operations and at random points; every file opens,
    holds every acknowledged point, resumes, and reads in a generic NeXus reader."""
    from nexusformat.nexus import nxload

    rng = np.random.default_rng(20240607)
    n = 6
    md = make_metadata(n)
    for run in range(12):
        path = tmp_path / f"kill{run}.h5"
        raw = run % 2 == 1
        args = [str(path), str(n), *(["--raw"] if raw else [])]
        if run < 6:  # exact: die inside a chosen resize / write / flush
            code, lines, err = _run(*args, "--kill-after-ops", str(int(rng.integers(1, 300))))
            acknowledged = _done(lines)
        elif run < 9:  # at a random instant, possibly inside HDF5's C code
            code, lines, err = _run(*args, "--kill-after-s", f"{rng.uniform(0.01, 0.15):.4f}")
            acknowledged = _done(lines)
        else:  # from outside, while the writer is busy with the next point
            proc = _spawn(*args)
            assert proc.stdout is not None
            wait_for = int(rng.integers(0, n - 1))
            acknowledged = set()
            for line in proc.stdout:
                if line.startswith("done "):
                    acknowledged.add(int(line.split()[1]))
                if len(acknowledged) > wait_for or (wait_for == 0 and line.strip() == "created"):
                    break
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            code, err = proc.returncode, ""
        assert code in (-signal.SIGKILL, 0), err
        if not path.exists():  # killed before the file existed
            assert not acknowledged
            continue
        _check_points(path, acknowledged, md)
        with ScanWriter.resume(path) as writer:
            assert acknowledged <= writer.completed_indices()
            for i in range(n):
                if i not in writer.completed_indices():
                    writer.write_point(make_record(i, md))
        _check_points(path, set(range(n)), md)
        root = nxload(str(path))
        try:
            assert root.entry.data.nxsignal.shape == (n, *md.image_shape)
        finally:
            root.nxfile.close()
        if raw:
            with open_scan(path) as scan:
                owners = scan.frame_table()["point_index"]
                assert set(owners.tolist()) <= set(range(n))


def test_killed_file_opens_in_generic_readers_after_recover(tmp_path: Path) -> None:
    from nexusformat.nexus import nxload

    path = tmp_path / "killed.h5"
    code, lines, _ = _run(str(path), "6", "--kill-after-ops", "150")
    assert code == -signal.SIGKILL
    acknowledged = _done(lines)
    assert acknowledged
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(path, "r")  # what HDF5 does to a file whose writer died
    with open_scan(path) as scan:  # tamrig's reader needs no repair
        assert acknowledged <= set(scan.indices())
        assert scan.status == "interrupted"  # "running" on file, but no writer holds it
    recover(path)
    root = nxload(str(path))
    try:
        flags = root.entry.data.completed.nxvalue
        assert flags.sum() >= len(acknowledged)
        assert root.entry.data.nxsignal.nxname == "dtt"
    finally:
        root.nxfile.close()
    _check_points(path, acknowledged, make_metadata(6))


def test_recover_command_opens_a_killed_file_to_every_hdf5_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tamrig.cli import main

    path = tmp_path / "killed.h5"
    code, lines, _ = _run(str(path), "6", "--kill-after-ops", "150")
    assert code == -signal.SIGKILL and _done(lines)
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(path, "r")
    assert main(["recover", str(path)]) == 0
    assert "any HDF5 program can open it now" in capsys.readouterr().out
    with h5py.File(path, "r") as f:
        assert "entry" in f
    assert main(["recover", str(tmp_path / "missing.h5")]) == 2
    (tmp_path / "notes.txt").write_text("not a scan")
    assert main(["recover", str(tmp_path / "notes.txt")]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err
    live = tmp_path / "live.h5"
    writer = _spawn(str(live), "3", "--lockstep")
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "created"
        assert main(["recover", str(live)]) == 1  # never under a running scan
        assert "a running scan is writing it" in capsys.readouterr().err
    finally:
        writer.kill()
        writer.wait()


def _superblock(path: Path) -> bytes:
    """The v2/v3 superblock: signature, 4 bytes, 4 addresses, checksum."""
    head = path.read_bytes()[:64]
    return head[: 12 + 4 * head[9] + 4]


def test_resume_after_a_kill_between_metadata_and_superblock_flushes(tmp_path: Path) -> None:
    """A SWMR writer killed after flushing new objects but before rewriting the superblock
    leaves a recorded end of allocation short of those objects; resume must still work."""
    path = tmp_path / "stale.h5"
    md = make_metadata(8)
    with ScanWriter.create(path, md) as writer:
        writer.write_point(make_record(0, md))
        writer.finish("aborted")
    older = _superblock(path)  # same root and extension, smaller end of allocation
    with ScanWriter.resume(path) as writer:
        for i in (1, 2, 3):
            writer.write_point(make_record(i, md))
        writer.finish("aborted")
    data = bytearray(path.read_bytes())
    data[: len(older)] = older
    path.write_bytes(bytes(data))
    width = older[9]
    eoa = int.from_bytes(older[12 + 2 * width : 12 + 3 * width], "little")
    assert eoa < len(data)  # objects of points 1-3 lie beyond the recorded end
    with ScanWriter.resume(path) as writer:
        assert writer.completed_indices() == {0, 1, 2, 3}
        for i in range(4, 8):
            writer.write_point(make_record(i, md))
    _check_points(path, set(range(8)), md)
    with open_scan(path) as scan:
        assert scan.status == "finished"


def test_full_disk_stops_before_writing_and_keeps_the_file_clean(tmp_path: Path) -> None:
    path = tmp_path / "full.h5"
    code, lines, err = _run(str(path), "200", "--size", "128", "--fsize", str(4_000_000))
    assert code == 1, err
    message = lines[-1]
    assert message.startswith("storage-error") and "not enough space" in message
    assert "file-size limit" in message and "completed point(s)" in message
    acknowledged = _done(lines)
    assert 0 < len(acknowledged) < 200
    md = make_metadata(200, (128, 128))
    _check_points(path, acknowledged, md)
    with open_scan(path) as scan:
        assert scan.status == "fault" and scan.events()[-1]["kind"] == "finish"
    with h5py.File(path, "r") as f:  # closed cleanly: any HDF5 reader opens it
        assert f["/entry/data/dtt"].shape[0] == len(acknowledged)


def test_write_failing_on_a_full_disk_raises_and_keeps_completed_points(tmp_path: Path) -> None:
    path = tmp_path / "full.h5"
    code, lines, err = _run(
        str(path), "200", "--size", "128", "--fsize", str(4_000_000), "--no-space-check"
    )
    assert code == 1, err
    assert lines[-1].startswith("storage-error") and "File too large" in lines[-1]
    assert "Writing has stopped" in lines[-1]
    acknowledged = _done(lines)
    md = make_metadata(200, (128, 128))
    _check_points(path, acknowledged, md)
    with ScanWriter.resume(path) as writer:  # after freeing space the scan can go on
        assert writer.completed_indices() == acknowledged
        writer.write_point(make_record(len(acknowledged), md))
    _check_points(path, acknowledged | {len(acknowledged)}, md)


def _create_in(folder: Path) -> str:
    try:
        ScanWriter.create(folder / "scan.h5", make_metadata()).close()
    except StorageError as exc:
        return str(exc)
    except Exception as exc:
        return f"unexpected {exc!r}"
    return "created"


def _create_as_nobody(folder: Path) -> str:
    """Root ignores permissions: try from a forked child running as an unprivileged user."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, _create_in(folder).encode())
        finally:
            os._exit(0)
    os.close(write)
    message = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    return message


def test_read_only_folder_fails_before_anything_starts() -> None:
    base = Path(tempfile.mkdtemp(prefix="tamrig-ro-"))
    folder = base / "ro"
    try:
        base.chmod(0o755)  # reachable for an unprivileged user
        folder.mkdir()
        folder.chmod(0o555)
        message = _create_in(folder) if os.geteuid() != 0 else _create_as_nobody(folder)
        assert "not writable" in message and str(folder) in message, message
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
        shutil.rmtree(base)


def test_output_path_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot create output folder"):
        ScanWriter.create(blocker / "scan.h5", make_metadata())
