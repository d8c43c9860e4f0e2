"""Running external commands (engine checkouts) as cancellable process groups with captured logs."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

MAX_LINE_BYTES = 2000
# The platform's own secrets: an engine's checkout and everything it installs run as the worker,
# but need none of them (the database, the broker, the session signing key, paid API keys).
PLATFORM_SECRETS = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ZHIPUAI_API_KEY", "LLM_OPENAI_API_KEY",
                    "DJANGO_SUPERUSER_PASSWORD")
# How long a finished command's output may take to drain: a child it left behind can hold the
# pipe open for longer, and is then read (into the log file) while the job goes on.
DRAIN_SECONDS = 10.0


def engine_environment(**overrides: str) -> dict[str, str]:
    """The worker's environment for an external engine's commands, without PLATFORM_SECRETS."""
    environment = {name: value for name, value in os.environ.items() if name not in PLATFORM_SECRETS}
    return {**environment, **overrides}


class CommandFailed(Exception):
    def __init__(self, returncode: int, tail: list[str]):
        self.returncode = returncode
        self.tail = tail
        super().__init__(f"exit code {returncode}")


class CommandCancelled(Exception):
    pass


def _split_lines(stream, on_line: Callable[[str], None], log) -> None:
    """Read a byte stream and hand over each line; tqdm's carriage returns end a line too.

    Lines are cut at MAX_LINE_BYTES (the log file keeps them whole): a process that writes
    megabytes without a newline must not fill the worker's memory or the task's log tail.
    """
    buffer = b""
    while chunk := stream.read1(4096):
        if log is not None:
            log.write(chunk)
            log.flush()
        buffer += chunk
        *lines, buffer = buffer.replace(b"\r", b"\n").split(b"\n")
        if len(buffer) > MAX_LINE_BYTES:
            lines.append(buffer)
            buffer = b""
        for line in lines:
            text = line[:MAX_LINE_BYTES].decode(errors="replace").rstrip()
            if text:
                on_line(text)
    if buffer.strip():
        on_line(buffer.decode(errors="replace").rstrip())


def _read_output(stream, on_line: Callable[[str], None], log) -> None:
    """The reader thread: it owns the log file, which it may still write after run_command returns."""
    try:
        _split_lines(stream, on_line, log)
    finally:
        if log is not None:
            log.close()


def kill_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left after ``grace`` seconds.

    The SIGKILL is sent however the wait ends: django-q's guard stops a timed-out worker with its
    own SIGTERM 3 s after the job's alarm, which interrupts the wait, and an engine left running
    would keep its GPU busy. Children that ignored SIGTERM go too, even after the leader exited.
    """
    if not _signal_group(process, signal.SIGTERM):
        return
    try:
        _wait(process, grace)
    finally:
        _signal_group(process, signal.SIGKILL)
        _wait(process, grace)


def _signal_group(process: subprocess.Popen, sig: int) -> bool:
    try:
        os.killpg(process.pid, sig)
        return True
    except ProcessLookupError:  # nothing left in the group
        return False


def _wait(process: subprocess.Popen, seconds: float) -> None:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass


REAPER = Path(__file__).with_name("group_reaper.py")


def _start_reaper(process: subprocess.Popen) -> subprocess.Popen:
    """A watcher that ends ``process``'s group if this worker dies without cancelling it (SIGKILL)."""
    # A session of its own: a signal for the worker's whole group (a terminal's hangup, a
    # supervisor's kill -9 of the group) must not take the reaper along before it can act.
    return subprocess.Popen(
        [sys.executable, "-I", "-S", str(REAPER), str(process.pid), str(os.getpid())],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def run_command(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    on_line: Callable[[str], None] = lambda line: None,
    should_cancel: Callable[[], bool] = lambda: False,
    log_path: Path | None = None,
    poll_seconds: float = 0.5,
    tail_lines: int = 40,
) -> None:
    """Run ``args`` in a new session so that cancelling reaches every child process.

    stdout and stderr are merged, written to ``log_path`` and handed line by line to
    ``on_line`` on the calling thread (so it may write to the database or raise). Raises
    CommandCancelled when ``should_cancel`` turns true, CommandFailed on a non-zero exit (with
    the last lines of output).
    """
    tail: deque[str] = deque(maxlen=tail_lines)
    lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def deliver() -> None:
        while True:
            try:
                line = lines.get_nowait()
            except queue.Empty:
                return
            tail.append(line)
            on_line(line)

    log = open(log_path, "ab") if log_path else None
    try:
        process = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        if log is not None:
            log.close()
        raise
    returned = threading.Event()  # after that, a left-behind child's lines go to the log file only

    def keep(line: str) -> None:
        if not returned.is_set():
            lines.put(line)

    reader = threading.Thread(target=_read_output, args=(process.stdout, keep, log), daemon=True)
    reader.start()
    reaper = None
    try:
        reaper = _start_reaper(process)
        while process.poll() is None:
            deliver()
            if should_cancel():
                raise CommandCancelled()
            time.sleep(poll_seconds)
    except BaseException:
        kill_group(process)
        raise
    finally:
        if reaper is not None:
            reaper.kill()
            reaper.wait()
    reader.join(timeout=DRAIN_SECONDS)
    returned.set()
    deliver()
    if process.returncode != 0:
        raise CommandFailed(process.returncode, list(tail))