"""Start the whole platform on this machine: one django-q cluster per queue and the web server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server and a queue worker for every GPU queue and the CPU queue; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", "3")))
        parser.add_argument("--queues", default=",".join([*settings.GPU_QUEUES, settings.CPU_QUEUE]),
                            help="Comma-separated queues to run workers for")
        parser.add_argument("--no-web", action="store_true", help="Only the queue workers (worker hosts)")

    def handle(self, *args, bind: str, web_workers: int, queues: str, no_web: bool, **options):
        children: list[subprocess.Popen] = []
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        for queue in filter(None, (q.strip() for q in queues.split(","))):
            env = {**os.environ, "Q_CLUSTER_NAME": queue}
            children.append(subprocess.Popen([*manage, "qcluster"], env=env))
            self.stdout.write(f"Started the worker for queue {queue} (pid {children[-1].pid})")
        if not no_web:
            web = [sys.executable, "-m", "gunicorn", "avatar_site.wsgi", "--bind", bind,
                   "--workers", str(web_workers), "--threads", "16", "--timeout", str(int(settings.SYNC_WAIT_SECONDS) + 60)]
            children.append(subprocess.Popen(web))
            self.stdout.write(f"Web server on http://{bind}/")

        def stop(signum, frame):
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
            sys.exit(0)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while True:
            for child in children:
                if child.poll() is not None:
                    self.stderr.write(f"Process {child.args} exited with {child.returncode}; stopping everything.")
                    stop(None, None)
            time.sleep(1)
