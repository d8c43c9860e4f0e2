"""Real django-q2 worker processes on the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_q.conf import Conf

from monitoring import jobs
from monitoring.models import HistoryType, Task

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_worker(monkeypatch, media_root):
    """Starts `manage.py qcluster` for queue GPU0 on the test database; jobs really go through the broker."""
    monkeypatch.setattr(Conf, "SYNC", False)
    processes = []

    def start(**extra_env):
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
            "Q_CLUSTER_NAME": "GPU0",
            "GPU_QUEUES": "GPU0",
            "MEDIA_ROOT": str(media_root),
            **extra_env,
        }
        processes.append(subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), "qcluster"],
            cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ))
        return processes[-1]

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def worker(start_worker):
    return start_worker()


def wait_for(task: Task, condition, timeout: float = 60.0) -> list[tuple[str, int]]:
    """Poll the task until ``condition(task)``; return the (status, progress) pairs seen on the way."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if not seen or seen[-1] != (task.status, task.progress):
            seen.append((task.status, task.progress))
        if condition(task):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"task {task.pk} stuck: {seen}")


def submit(owner=None, **parameters) -> Task:
    return jobs.submit(
        HistoryType.VIDEO_GENERATION, "tests.jobs.count_job", parameters, owner=owner, queue="GPU0", gpu="GPU0"
    )


def test_a_worker_runs_a_task_from_queued_to_succeeded(worker):
    task = submit(steps=20, pause=0.1)
    assert task.status == Task.Status.QUEUED

    seen = wait_for(task, lambda t: t.is_finished)

    assert task.status == Task.Status.SUCCEEDED, task.message
    assert task.result == {"counted": 20}
    statuses = [status for status, _ in seen]
    assert statuses[0] == "queued"
    assert "running" in statuses
    assert any(status == "running" and 0 < progress < 100 for status, progress in seen)
    assert task.history.status == "completed"


def test_a_running_task_is_cancelled_by_the_api(worker, api, user):
    task = submit(owner=user, steps=600, pause=0.1)
    wait_for(task, lambda t: t.status == Task.Status.RUNNING and t.progress > 0)

    response = api.post(f"/api/tasks/{task.pk}/cancel")

    assert response.status_code == 200
    wait_for(task, lambda t: t.is_finished, timeout=20)
    assert task.status == Task.Status.CANCELLED
    assert task.progress < 100
    assert task.history.status == "cancelled"


def test_a_killed_worker_fails_its_task_and_the_queue_goes_on(worker, media_root):
    task = submit(steps=600, pause=0.1, scratch=True)
    wait_for(task, lambda t: t.status == Task.Status.RUNNING and t.progress > 0)

    os.kill(task.worker_pid, signal.SIGKILL)

    wait_for(task, lambda t: t.is_finished, timeout=30)
    assert task.status == Task.Status.FAILED
    assert "worker running this job stopped" in task.message
    assert task.history.status == "failed"
    assert not list((media_root / "videos").iterdir())
    assert not list((media_root / "tmp").iterdir())
    following = submit(steps=2, pause=0.05)
    wait_for(following, lambda t: t.is_finished)
    assert following.status == Task.Status.SUCCEEDED


def test_a_task_for_an_absent_queue_waits_as_queued(worker):
    task = jobs.submit(HistoryType.VIDEO_GENERATION, "tests.jobs.count_job", {"steps": 1}, queue="GPU9")

    time.sleep(3)

    task.refresh_from_db()
    assert task.status == Task.Status.QUEUED


def test_a_job_past_the_timeout_is_stopped_and_fails(start_worker):
    start_worker(JOB_TIMEOUT="10")
    task = submit(steps=600, pause=0.1)

    wait_for(task, lambda t: t.is_finished, timeout=60)

    assert task.status == Task.Status.FAILED
    assert "ran longer than JOB_TIMEOUT (10 s)" in task.message
    following = submit(steps=2, pause=0.05)
    wait_for(following, lambda t: t.is_finished, timeout=30)
    assert following.status == Task.Status.SUCCEEDED


def test_stopping_runplatform_ends_the_running_jobs_task_before_it_exits(monkeypatch, media_root):
    """SIGTERM (Ctrl-C, systemctl stop): the cluster itself exits at once, its worker must still be
    given the time to end the running task, not be killed with it and leave the task "running"."""
    monkeypatch.setattr(Conf, "SYNC", False)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}", "GPU_QUEUES": "GPU0",
           "MEDIA_ROOT": str(media_root)}
    platform = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runplatform", "--no-web",
                                 "--queues", "GPU0"], cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        task = submit(steps=600, pause=0.1, unwind=2)
        wait_for(task, lambda t: t.status == Task.Status.RUNNING and t.progress > 0)

        platform.send_signal(signal.SIGTERM)
        platform.wait(timeout=60)
    finally:
        if platform.poll() is None:
            os.killpg(platform.pid, signal.SIGKILL)

    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert "shut down" in task.message and "JOB_TIMEOUT" not in task.message


def test_runplatform_refuses_a_queue_the_site_does_not_have(settings):
    from django.core.management import CommandError, call_command

    settings.GPU_QUEUES = ["GPU0", "GPU1"]

    with pytest.raises(CommandError, match="No such queue: GPU7; this site's queues are GPU0, GPU1, CPU"):
        call_command("runplatform", "--no-web", "--queues", "GPU0,GPU7")
