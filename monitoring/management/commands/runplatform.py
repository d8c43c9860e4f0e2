"""Start the whole platform on this machine: one django-q cluster per queue and the web server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

GRACE_SECONDS = 30  # for running jobs to end their tasks (failed, "worker was shut down") and their engines


class Command(BaseCommand):
    help = "Run the web server and a queue worker for every GPU queue and the CPU queue; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.BIND)
        parser.add_argument("--web-workers", type=int, default=settings.WEB_WORKERS,
                            help="gunicorn worker processes (default: WEB_WORKERS)")
        parser.add_argument("--queues", default=",".join([*settings.GPU_QUEUES, settings.CPU_QUEUE]),
                            help="Comma-separated queues to run workers for")
        parser.add_argument("--no-web", action="store_true", help="Only the queue workers (worker hosts)")

    def handle(self, *args, bind: str, web_workers: int, queues: str, no_web: bool, **options):
        names = list(dict.fromkeys(q.strip() for q in queues.split(",") if q.strip()))
        if not names and no_web:
            raise CommandError("No queues to run workers for.")
        known = [*settings.GPU_QUEUES, settings.CPU_QUEUE]
        unknown = [name for name in names if name not in known]
        if unknown:  # its worker would never get a job
            raise CommandError(f"No such queue: {', '.join(unknown)}; this site's queues are {', '.join(known)} "
                               "(GPU_QUEUES and CPU).")
        children: list[subprocess.Popen] = []
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # Each child leads its own session: Ctrl-C in the terminal reaches only this command, which
        # stops the children in order (an engine's ffmpeg interrupted first failed its job with
        # "Broken pipe"), and the whole tree of each child can be found and stopped.
        for queue in names:
            env = {**os.environ, "Q_CLUSTER_NAME": queue}
            children.append(subprocess.Popen([*manage, "qcluster"], env=env, start_new_session=True))
            self.stdout.write(f"Started the worker for queue {queue} (pid {children[-1].pid})")
        if not no_web:
            web = [sys.executable, "-m", "gunicorn", "avatar_site.wsgi", "--bind", bind,
                   "--workers", str(web_workers), "--threads", "16",
                   "--timeout", str(int(settings.SYNC_WAIT_SECONDS) + 60)]
            children.append(subprocess.Popen(web, start_new_session=True))
            self.stdout.write(f"Web server on http://{bind}/")

        def on_signal(signum, frame):
            stop_all(children)
            sys.exit(0)

        # The terminal closing (SIGHUP) no longer reaches the children's sessions: stop them here.
        for stopping in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(stopping, on_signal)
        while True:
            for child in children:
                if child.poll() is not None:
                    self.stderr.write(f"Process {child.args} exited with {child.returncode}; stopping everything.")
                    stop_all(children)
                    sys.exit(1)
            time.sleep(1)


def stop_all(children: list[subprocess.Popen]) -> None:
    """SIGTERM to our own processes (clusters, their workers, gunicorn): a worker's job then ends
    its task and kills its engine. Whatever of the trees is left after the grace is killed."""
    trees = []
    for child in children:
        try:
            root = psutil.Process(child.pid)
            trees.append([root, *root.children(recursive=True)])
        except psutil.NoSuchProcess:
            continue
    terminated = []
    for process in (process for tree in trees for process in tree):
        try:
            if process.exe() == os.path.realpath(sys.executable):
                process.terminate()
                terminated.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    deadline = time.monotonic() + GRACE_SECONDS
    # Every one of them, not only our direct children: a django-q cluster exits at once on
    # SIGTERM while its worker is still ending the running job's task ("worker was shut down").
    psutil.wait_procs(terminated, timeout=GRACE_SECONDS)
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for tree in trees:
        for process in tree:
            try:
                process.kill()  # also what the tree started after it was listed dies with its parent's group
            except psutil.NoSuchProcess:
                pass
        try:
            os.killpg(tree[0].pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
