"""Tasks whose worker died (killed, out of memory, host rebooted) must not stay "running" forever."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial

import psutil
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone
from django.utils.translation import gettext_lazy

from monitoring import jobs
from monitoring.models import Task

logger = logging.getLogger(__name__)

MAX_DATABASE_WAIT_SECONDS = 30.0  # between tries, while a starting worker waits for the database

ORPHAN_MESSAGE = gettext_lazy(
    "The worker running this job stopped before it finished (killed or crashed). Run it again."
)
LOST_MESSAGE = gettext_lazy(
    "Marked failed by staff: the host running this job was lost before it finished. Run it again."
)


def worker_host() -> str:
    """This worker's host as its tasks record it, for recovery to judge their workers by pid:
    WORKER_ID, else the host name. Containers that share the host's name (host networking) number
    their processes apart, so each needs a WORKER_ID of its own, kept across its restarts."""
    return settings.WORKER_ID or socket.gethostname()


def _alive(pid: int, claimed_at: datetime | None) -> bool:
    """Whether the worker that claimed a task at ``claimed_at`` still runs.

    A process with that pid created after the claim is another one: containers restart with the
    same pids, so a new worker can carry the dead one's number.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return claimed_at is None or process.create_time() <= claimed_at.timestamp() + 1.0
    except psutil.NoSuchProcess:
        return False


def fail_orphaned_tasks() -> list[str]:
    """Mark failed the running tasks of this host whose worker process no longer exists.

    Called whenever a queue worker process starts, which is also when django-q replaces a
    worker that died: the dead worker's job is then reported instead of hanging.
    """
    orphaned = []
    for task in Task.objects.filter(status=Task.Status.RUNNING, worker_host=worker_host()):
        if not task.worker_pid or _alive(task.worker_pid, task.started_at):
            continue
        # Read again: the worker may have finished the task, and exited, since the query.
        task.refresh_from_db()
        if task.status != Task.Status.RUNNING:
            continue
        if _fail(task, ORPHAN_MESSAGE):
            orphaned.append(task.pk)
    if orphaned:
        logger.warning("Marked orphaned tasks failed: %s", ", ".join(orphaned))
    return orphaned


def fail_lost_task(task: Task) -> bool:
    """Fail a running task whose worker staff know to be gone for good (a host that was replaced
    or will not come back: each host's worker start looks only at its own tasks). False when it
    is not running, or its worker still runs on this host."""
    if task.status != Task.Status.RUNNING:
        return False
    if task.worker_host == worker_host() and task.worker_pid and _alive(task.worker_pid, task.started_at):
        return False
    return _fail(task, LOST_MESSAGE)


def _fail(task: Task, message) -> bool:
    task.remove_scratch()  # first: whoever sees the task failed finds no half-written files
    return task.finish(Task.Status.FAILED, message, {**task.result, "http_status": 500}, only_if=Task.Status.RUNNING)


def resend_queued_tasks(queue: str, created_before: datetime | None = None) -> list[str]:
    """Hand the broker again every task of ``queue`` our table still has as queued (only those
    created before ``created_before``, when given).

    A broker can lose its messages (Redis restarted without persistence, a flushed list); our
    Task table cannot. Sending a task twice is harmless: only one worker can claim it. A broker
    that refuses now leaves the tasks queued (the next worker start or sweep sends them again).
    """

    queued = Task.objects.filter(status=Task.Status.QUEUED, queue=queue).order_by("created_at")
    if created_before is not None:
        queued = queued.filter(created_at__lt=created_before)
    resent = []
    for task in queued:
        try:
            jobs.send(task)
        except Exception:
            logger.exception("Could not send queued task %s to %s again; it stays queued", task.pk, queue)
            break
        resent.append(task.pk)
    if resent:
        logger.warning("Sent queued tasks to %s again: %s", queue, ", ".join(resent))
    return resent


def send_sweep(queue: str) -> None:
    """After each job, put a sweep at the end of the job's queue (``resend_lost_tasks``).

    A broker that loses its messages while the workers run (Redis restarted without persistence)
    would otherwise leave their tasks queued until a worker starts again.
    """
    from django_q.conf import Conf

    if Conf.SYNC:  # the inline queue of the tests: every job has run already, nothing can be lost
        return
    jobs.send_housekeeping("monitoring.recovery.resend_lost_tasks", queue, timezone.now().isoformat(),
                           queue=queue, name=f"sweep-{queue}")


def resend_lost_tasks(queue: str, swept_at: str) -> list[str]:
    """The sweep: send again the tasks of ``queue`` created before it that are still queued.

    It runs when the queue's worker takes it; a queue's messages are taken first in, first out,
    so the messages of those tasks, ahead of the sweep, are gone: lost by the broker (with several
    workers one may also still be on its way to a worker; a second message is harmless).
    """
    return resend_queued_tasks(queue, created_before=datetime.fromisoformat(swept_at))


def when_database_answers(action: Callable[[], object], what: str) -> None:
    """Run a worker's start-up ``action``, waiting for a database that does not answer yet (it
    starts after the worker, or is restarting; on another host, no unit ordering helps): skipped,
    its queued tasks would wait and its orphans stay running until the next start. Any other
    error is logged and the worker starts anyway."""
    delay = 1.0
    while True:
        try:
            action()
            return
        except (OperationalError, InterfaceError):  # not answering (other database errors are bugs)
            logger.warning("Could not %s yet, the database does not answer; trying again in %.0f s",
                           what, delay, exc_info=True)
            connections.close_all()
            time.sleep(delay)
            delay = min(delay * 2, MAX_DATABASE_WAIT_SECONDS)
        except Exception:  # never keep a worker from starting
            logger.exception("Could not %s", what)
            return


def _recover(queue: str) -> None:
    fail_orphaned_tasks()
    resend_queued_tasks(queue)


def on_worker_spawn(sender, proc_name, **kwargs) -> None:
    from django_q.conf import Conf

    when_database_answers(partial(_recover, Conf.CLUSTER_NAME), "recover tasks")
