"""Process faults: kill -9 and Ctrl-C at random moments, a full disk, a read-only folder.

Each scan is a real ``python -m tamrig scan`` process on a 48-point plan at simulated time
scale 0. After every kill the file must open (tamrig's reader and plain h5py) and
``--resume`` must complete it with every point stored exactly once. The loop's counts are
printed (``-rA`` / ``-s``).
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import pytest
from conftest import REPO
from harness_engine import write_plan, write_rig

from tamrig.storage import open_scan

KILL_RUNS = 50
SEED = 20261125


def tamrig(
    *args: str, preexec: Callable[[], None] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "tamrig", "scan", *args, "--quiet"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=preexec,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def wait_for_file(process: subprocess.Popen[str], path: Path) -> float:
    """Wait (without opening it) until the scan has created ``path``; returns the time."""
    deadline = time.monotonic() + 60
    while not path.exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the scan never created its file"
        time.sleep(0.002)
    return time.monotonic()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A clean run; measures how long the scan runs once its file exists."""
    folder = tmp_path_factory.mktemp("process")
    # Three sweeps: the scan proper outlasts the process's start-up and exit, so most random
    # moments after the file appears fall inside it (a Ctrl-C once the command has returned
    # is ignored: the scan had finished).
    plan, rig = write_plan(folder, sweeps=3), write_rig(folder)
    # Timed on the second of two clean runs: the first also compiles bytecode and warms the
    # file cache (a fresh checkout), which made it slower than the runs of the loop, so
    # many random moments fell after their scan had finished.
    for name in ("warm-up.h5", "clean.h5"):
        out = folder / name
        process = tamrig(str(plan), "--rig", str(rig), "--out", str(out))
        created = wait_for_file(process, out)
        code, err = finish(process)
        assert code == 0, err
    with open_scan(out) as f:
        total = len(f.indices())
    return {
        "folder": folder,
        "plan": plan,
        "rig": rig,
        "total": total,
        "scan_s": time.monotonic() - created,
    }


def check_file_valid(path: Path) -> int:
    """Opens with tamrig's reader and with plain h5py; returns the points stored."""
    with h5py.File(path, "r", swmr=True, libver="latest") as f:
        assert "entry" in f
    with open_scan(path) as f:
        f.points()
        return len(f.indices())


def kill_and_resume(i: int, setup: dict[str, object]) -> tuple[str, int]:
    """One run: start, signal at a random moment, check the file, resume to the end."""
    rng = random.Random(SEED + i)
    how = signal.SIGKILL if i % 2 == 0 else signal.SIGINT
    out = Path(str(setup["folder"])) / f"run{i}.h5"
    plan, rig, total = str(setup["plan"]), str(setup["rig"]), int(setup["total"])  # type: ignore[call-overload]
    process = tamrig(plan, "--rig", rig, "--out", str(out))
    wait_for_file(process, out)
    # A random moment of the scan proper. The moments span 85 % of the timed clean run:
    # the runs of the loop end sooner than that run (measured: with the full span 15-19 of
    # 50 had finished first); with 85 % a few still do, and the last points are still hit.
    try:
        process.wait(timeout=rng.uniform(0.0, 0.85) * float(setup["scan_s"]))  # type: ignore[arg-type]
    except subprocess.TimeoutExpired:
        process.send_signal(how)
    code, err = finish(process)
    name = "kill -9" if how == signal.SIGKILL else "SIGINT"
    if code == 0:
        outcome = "finished before the signal"
    elif not out.exists():
        outcome = f"{name} before the file existed"
    else:
        outcome = f"{name} mid-scan"
    if how == signal.SIGINT and out.exists() and code not in (0, -signal.SIGINT):
        assert code == 130, err  # interrupted after start-up: exit 130, no traceback
        assert "Traceback" not in err, err
    kept = 0
    if not out.exists():  # killed during start-up: nothing to resume, start again
        code, err = finish(tamrig(plan, "--rig", rig, "--out", str(out)))
        assert code == 0, err
    else:
        kept = check_file_valid(out)
        assert kept <= total
        if code != 0:
            code, err = finish(tamrig("--resume", str(out), "--rig", rig))
            assert code == 0, f"run {i} ({outcome}, {kept} points kept): {err}"
    with open_scan(out) as f:
        assert f.status == "finished", (i, outcome)
        assert Counter(f.indices()) == Counter(range(total)), (i, outcome)
    return outcome, kept


@pytest.mark.slow
def test_kill_and_interrupt_then_resume_loop(setup: dict[str, object]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: kill_and_resume(i, setup), range(KILL_RUNS)))
    counts = Counter(outcome for outcome, _ in results)
    kept = sorted(k for outcome, k in results if outcome.endswith("mid-scan"))
    print(f"\nkill/resume loop: {KILL_RUNS} runs of {setup['total']} points, every file valid,")
    print("every resumed file complete with each point exactly once:")
    for outcome, n in sorted(counts.items()):
        print(f"  {n:3d}  {outcome}")
    print(
        f"  points on disk when the signal landed (min/median/max): {kept[0]}/"
        f"{kept[len(kept) // 2]}/{kept[-1]} of {setup['total']}"
    )
    mid = len(kept)
    assert mid >= KILL_RUNS * 2 // 3, counts  # most signals must land inside a running scan


def ignore_sigxfsz() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG


def test_too_small_disk_refused_before_the_scan(setup: dict[str, object]) -> None:
    folder = Path(str(setup["folder"]))
    out = folder / "small.h5"
    limit = (folder / "clean.h5").stat().st_size // 3

    def small_disk() -> None:
        ignore_sigxfsz()
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    code, err = finish(
        tamrig(
            str(setup["plan"]), "--rig", str(setup["rig"]), "--out", str(out), preexec=small_disk
        )
    )
    assert code == 1, err
    assert "Traceback" not in err and "not enough space" in err, err
    assert "sweep" not in err  # before the first point


def test_disk_full_mid_scan_exits_1_with_points_kept(setup: dict[str, object]) -> None:
    """The disk fills while the scan runs (the limit drops under the running process)."""
    folder = Path(str(setup["folder"]))
    out = folder / "full.h5"
    clean = (folder / "clean.h5").stat().st_size
    total = int(setup["total"])  # type: ignore[call-overload]
    process = tamrig(
        str(setup["plan"]), "--rig", str(setup["rig"]), "--out", str(out), preexec=ignore_sigxfsz
    )
    deadline = time.monotonic() + 60
    # once some points are on disk (the empty file is already large), leave room for ~1 more
    while not (out.exists() and out.stat().st_size > clean * 2 // 3):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    size = out.stat().st_size
    resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (size + clean // 40, size + clean // 40))
    code, err = finish(process)
    assert code == 1, err
    assert "Traceback" not in err
    assert str(out) in err and ("too large" in err.lower() or "disk" in err.lower()), err
    kept = check_file_valid(out)
    assert 1 <= kept < total
    code, err = finish(tamrig("--resume", str(out), "--rig", str(setup["rig"])))
    assert code == 0, err
    with open_scan(out) as f:
        assert Counter(f.indices()) == Counter(range(total))


def test_read_only_output_folder_refused_before_the_scan(setup: dict[str, object]) -> None:
    root = Path(tempfile.mkdtemp(prefix="tamrig-ro-"))
    try:
        os.chmod(root, 0o755)
        locked = root / "locked"
        locked.mkdir(mode=0o555)
        for name in ("plan", "rig"):
            target = root / Path(str(setup[name])).name
            target.write_text(Path(str(setup[name])).read_text())
            os.chmod(target, 0o644)
        out = locked / "scan.h5"

        prefix: tuple[str, ...] = ()
        if os.geteuid() == 0:  # root ignores folder permissions: drop that privilege
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
            prefix = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--")
        code, err = finish(
            tamrig(
                *(str(root / "tiny.toml"), "--rig", str(root / "rig.toml"), "--out", str(out)),
                prefix=prefix,
            )
        )
        assert code in (1, 2), err
        assert "Traceback" not in err
        assert str(locked) in err and "writ" in err.lower(), err
        assert "sweep" not in err  # refused before the first point
        assert not out.exists()
    finally:
        for path in sorted(root.rglob("*"), reverse=True):
            os.chmod(path, 0o755) if path.is_dir() else path.unlink()
        for path in sorted(root.rglob("*"), reverse=True):
            path.rmdir()
        root.rmdir()
