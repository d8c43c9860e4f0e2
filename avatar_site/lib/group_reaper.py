"""Ends an engine's process group when the worker that started it dies, SIGKILL included.

``run_command`` (avatar_site/lib/processes.py) starts one beside every external command, as
``python group_reaper.py <group id> <worker pid>``. Linux sends it SIGTERM when the worker thread
that started it is gone (PR_SET_PDEATHSIG); it then sends the group SIGTERM and, after a grace
period, SIGKILL. A worker that ends normally kills its reaper first. Without it, a training on a
GPU ran on for hours beside the next job of its queue after its worker was killed.

A plain script, not a module of the project: it must start in a few milliseconds, with nothing
but the standard library.
"""

import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 5.0


def end_group(group: int) -> None:
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def main() -> None:
    group, worker = int(sys.argv[1]), int(sys.argv[2])
    for meant_for_the_worker in (signal.SIGINT, signal.SIGHUP):  # a Ctrl-C, a terminal closing
        signal.signal(meant_for_the_worker, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        sys.exit(f"group_reaper: prctl failed (errno {ctypes.get_errno()})")
    if os.getppid() == worker:  # else the worker died before the request took effect
        signal.sigwait({signal.SIGTERM})
    end_group(group)


if __name__ == "__main__":
    main()
