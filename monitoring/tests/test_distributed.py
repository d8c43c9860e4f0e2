"""The distributed mode: PostgreSQL + Redis, one web server and one worker process per GPU queue.

Needs the servers that .ci/run starts on loopback (AVATAR_TEST_POSTGRES_URL, AVATAR_TEST_REDIS_URL);
everything runs in real separate processes, as on several hosts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("AVATAR_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("AVATAR_TEST_REDIS_URL", "")
BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="needs PostgreSQL and Redis: set AVATAR_TEST_POSTGRES_URL and AVATAR_TEST_REDIS_URL (.ci/run does)",
)


@dataclass
class Site:
    env: dict
    port: int
    token: str
    web: subprocess.Popen
    processes: list

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, env=self.env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start_worker(self, queue: str) -> None:
        self.processes.append(_spawn([str(BASE_DIR / "manage.py"), "qcluster"], {**self.env, "Q_CLUSTER_NAME": queue}))

    def wait(self, task_ids: list[str], status: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            tasks = {task_id: self.task(task_id) for task_id in task_ids}
            if all(task["task_status"] == status for task in tasks.values()) or time.monotonic() > deadline:
                return tasks
            time.sleep(0.5)

    def start_web(self) -> None:
        self.web = _spawn(["-m", "gunicorn", "avatar_site.wsgi", "--bind", f"127.0.0.1:{self.port}",
                           "--workers", "2"], self.env)
        _wait_for_port(self.port)

    def get(self, path: str) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                         headers={"Authorization": f"Token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def task(self, task_id: str) -> dict:
        return self.get(f"/api/tasks/{task_id}")

    def submit(self, queue: str, steps: int) -> str:
        code = (
            "from django.contrib.auth.models import User; from monitoring import jobs; "
            f"t = jobs.submit('video_generation', 'tests.jobs.count_job', {{'steps': {steps}, 'pause': 0.1}}, "
            f"owner=User.objects.get(username='worker-test'), queue='{queue}', gpu='{queue}'); print(t.pk)"
        )
        return self.manage("shell", "-c", code).strip().splitlines()[-1]


def _spawn(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def site(tmp_path):
    import psycopg
    import redis

    database = f"avatar_dist_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": POSTGRES_URL.rsplit("/", 1)[0] + f"/{database}",
        "REDIS_URL": REDIS_URL,
        "GPU_QUEUES": "GPU0,GPU1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "distributed-test",
    }
    site = Site(env, _free_port(), "", None, [])
    site.manage("migrate", "--noinput")
    site.token = site.manage("shell", "-c", (
        "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token; "
        "print(Token.objects.create(user=User.objects.create_user('worker-test')).key)"
    )).strip().splitlines()[-1]
    site.start_web()
    yield site
    for process in [site.web, *site.processes]:
        _stop(process)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


def _interval(task: dict) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(task["started_at"]), datetime.fromisoformat(task["finished_at"])


def test_gpu_queues_run_in_parallel_one_job_at_a_time_and_survive_a_web_restart(site):
    site.start_worker("GPU0")
    site.start_worker("GPU1")
    first_gpu0 = site.submit("GPU0", steps=15)
    second_gpu0 = site.submit("GPU0", steps=15)
    gpu1 = site.submit("GPU1", steps=15)
    absent = site.submit("GPU9", steps=1)

    _stop(site.web)  # the web process goes away while the jobs run…
    site.start_web()  # …and comes back
    tasks = site.wait([first_gpu0, second_gpu0, gpu1], "succeeded")
    tasks[absent] = site.task(absent)

    assert [tasks[t]["task_status"] for t in (first_gpu0, second_gpu0, gpu1)] == ["succeeded"] * 3, tasks
    a_start, a_end = _interval(tasks[first_gpu0])
    b_start, b_end = _interval(tasks[second_gpu0])
    assert a_end <= b_start or b_end <= a_start, "two jobs overlapped on GPU0"
    g_start, g_end = _interval(tasks[gpu1])
    assert g_start < max(a_end, b_end) and min(a_start, b_start) < g_end, "GPU0 and GPU1 did not run in parallel"
    assert tasks[absent]["task_status"] == "queued"
    # Each worker reported, as it started, what it can run for its queue (what a web host goes by).
    engines = {engine["name"]: engine for engine in site.get("/api/engines")["engines"]}
    assert engines["builtin"]["queues"] == ["GPU0", "GPU1"]


def test_queued_jobs_survive_a_redis_restart(site):
    import redis

    waiting = [site.submit("GPU0", steps=3), site.submit("GPU0", steps=3)]
    redis.Redis.from_url(REDIS_URL).flushall()  # what a restart without persistence leaves

    site.start_worker("GPU0")

    tasks = site.wait(waiting, "succeeded", timeout=60)
    assert [task["task_status"] for task in tasks.values()] == ["succeeded", "succeeded"], tasks


def test_jobs_a_broker_loses_while_its_worker_runs_are_sent_again_after_the_running_job(site):
    import redis

    site.start_worker("GPU0")
    running = site.submit("GPU0", steps=30)
    site.wait([running], "running", timeout=60)
    waiting = [site.submit("GPU0", steps=1) for _ in range(3)]
    redis.Redis.from_url(REDIS_URL).flushall()  # a restart without persistence, the worker still up

    tasks = site.wait([running, *waiting], "succeeded", timeout=90)

    assert [task["task_status"] for task in tasks.values()] == ["succeeded"] * 4, tasks
