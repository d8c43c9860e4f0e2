"""External engine processes: stopped for good, and their output kept to a bounded size."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avatar_site.lib.processes import MAX_LINE_BYTES, _split_lines, kill_group, run_command
from tests.processes import alive

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"


def stubborn_process() -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, start_new_session=True)
    assert process.stdout.readline() == b"ready\n"  # its SIGTERM handler is in place
    return process


def test_a_process_that_ignores_sigterm_is_killed():
    process = stubborn_process()

    kill_group(process, grace=0.2)

    assert process.returncode == -signal.SIGKILL


def test_the_kill_follows_even_when_the_wait_is_interrupted():
    """As when django-q's guard sends the timed-out worker its own SIGTERM during the grace period."""
    process = stubborn_process()

    def interrupt(signum, frame):
        raise RuntimeError("worker stopping")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(RuntimeError, match="worker stopping"):
            kill_group(process, grace=30)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert process.wait(timeout=5) == -signal.SIGKILL


def test_output_without_newlines_is_cut_into_bounded_lines():
    lines = []

    _split_lines(io.BufferedReader(io.BytesIO(b"x" * 1_000_000 + b"\nlast line\n")), lines.append, None)

    assert lines[-1] == "last line"
    assert all(len(line) <= MAX_LINE_BYTES for line in lines)
    assert sum(len(line) for line in lines[:-1]) <= 1_000_000


@pytest.mark.django_db
def test_a_tasks_log_tail_stays_small_however_long_the_lines():
    from monitoring.models import LOG_LINE_CHARS, LOG_TAIL_LINES, HistoryType, Task

    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="x", queue="GPU0")

    task.append_log(["y" * 5_000_000] * 3)
    task.append_log(["short"])

    assert len(task.log_tail) < (LOG_LINE_CHARS + 3) * LOG_TAIL_LINES
    assert task.log_tail.splitlines()[-1] == "short"



@pytest.mark.parametrize("kill", ["the worker", "the worker's group"])
def test_a_worker_killed_outright_takes_its_commands_whole_process_group_along(tmp_path, kill):
    """SIGKILL leaves the worker no chance to cancel: its engine (here with a child of its own)
    must not run on beside the next job of the GPU. Also when the whole group of the worker is
    killed (a supervisor's kill -9 of the group), which used to take the reaper along."""
    pids = tmp_path / "pids.json"
    engine = ("import json, os, subprocess, sys, time; "
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
              f"open({str(pids)!r}, 'w').write(json.dumps([os.getpid(), child.pid])); time.sleep(120)")
    worker = subprocess.Popen([sys.executable, "-c", (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r}); "
        "from avatar_site.lib.processes import run_command; "
        f"run_command([sys.executable, '-c', {engine!r}])")], start_new_session=True)
    deadline = time.monotonic() + 30
    while not pids.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    engine_pids = json.loads(pids.read_text())

    if kill == "the worker":
        worker.kill()
    else:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()

    try:
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in engine_pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in engine_pids)
    finally:
        for pid in engine_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_command_that_ends_leaves_no_watcher_behind():
    import psutil

    run_command([sys.executable, "-c", "print('done')"])

    assert not [child for child in psutil.Process().children(recursive=True) if "group_reaper" in " ".join(child.cmdline())]


def test_what_a_left_behind_child_writes_later_still_reaches_the_log(tmp_path, monkeypatch):
    from avatar_site.lib import processes

    monkeypatch.setattr(processes, "DRAIN_SECONDS", 0.1)
    log = tmp_path / "stage.log"

    run_command(["sh", "-c", "(sleep 1; echo late) & echo early"], log_path=log, poll_seconds=0.05)
    returned_with = log.read_bytes()
    deadline = time.monotonic() + 5
    while b"late" not in log.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)

    assert returned_with == b"early\n"  # the job went on while the child held the pipe
    assert log.read_bytes() == b"early\nlate\n"


def test_a_left_behind_childs_lines_are_not_kept_in_memory_after_the_command_returned(tmp_path, monkeypatch):
    from avatar_site.lib import processes

    monkeypatch.setattr(processes, "DRAIN_SECONDS", 0.1)
    seen = []

    run_command(["sh", "-c", "(sleep 0.3; for i in 1 2 3; do echo late$i; done) & echo early"], on_line=seen.append,
                log_path=tmp_path / "stage.log", poll_seconds=0.05)
    time.sleep(1)

    assert seen == ["early"]
    assert (tmp_path / "stage.log").read_text() == "early\nlate1\nlate2\nlate3\n"
