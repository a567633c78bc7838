"""Job scripts die with the Snakemake process that started them (no orphan after kill -9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cinexai.workflow import die_with_parent

#: The parent starts a child (guarded or not) that writes its pid and sleeps, then waits.
PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    child = (
        "import sys, time\\n"
        + ("from cinexai.workflow import die_with_parent\\ndie_with_parent()\\n" if sys.argv[2] == "1" else "")
        + "open(sys.argv[1], 'w').write('ready')\\n"
        + "time.sleep(120)\\n"
    )
    subprocess.Popen([sys.executable, "-c", child, sys.argv[1]])
    time.sleep(120)
    """
)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie awaiting its reaper counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _child_after_parent_killed(tmp_path: Path, guarded: bool) -> bool:
    """Start parent + child, SIGKILL the parent; is the child still running afterwards?"""
    ready = tmp_path / f"ready-{int(guarded)}"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(ready), str(int(guarded))])
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()
    assert ready.exists() and len(children) == 1
    child = int(children[0])
    parent.kill()
    parent.wait()
    # a wait for the signal, not a timing assertion: the guarded child goes at once, the control
    # is given a second to show that it stays
    deadline = time.monotonic() + (10 if guarded else 1)
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_guarded_job_dies_with_its_parent_and_an_unguarded_one_survives(tmp_path: Path) -> None:
    assert not _child_after_parent_killed(tmp_path, guarded=True)
    assert _child_after_parent_killed(tmp_path, guarded=False)  # the control: orphans do survive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_die_with_parent_reports_success_on_linux() -> None:
    assert die_with_parent(0) is True  # signal 0 clears the request again


LOGGED = textwrap.dedent(
    """
    import ctypes, sys
    from types import SimpleNamespace
    from cinexai.workflow import logged
    job = SimpleNamespace(log=[sys.argv[1]], rule="r", wildcards={})
    with logged(job):
        value = ctypes.c_int()
        ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
    print(value.value)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_every_job_script_is_guarded_by_logged(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", LOGGED, str(tmp_path / "r.log")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(out) == signal.SIGTERM
    assert "rule r" in (tmp_path / "r.log").read_text()
