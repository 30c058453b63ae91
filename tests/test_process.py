"""Process-wide settings of the tamrig command (tamrig.process)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from conftest import REPO

from tamrig import process


def test_blas_thread_variables_default_to_one_but_a_user_choice_stands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in process.BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    process.single_threaded_blas()
    assert process.os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert process.os.environ["OMP_NUM_THREADS"] == "3"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_the_command_process_uses_one_blas_thread_and_keeps_freed_memory() -> None:
    code = (
        "from tamrig import process; kept = process.keep_freed_memory(); "
        "process.single_threaded_blas(); import numpy; "
        "from threadpoolctl import threadpool_info; "
        "print(kept, {i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'})"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    assert out[1].strip() == "{1}"  # numpy's wheels bring OpenBLAS: one thread of it
    if platform.libc_ver()[0] == "glibc":
        assert out[0] == "True"
