"""Tasks whose worker died (killed, out of memory, host rebooted) must not stay "running" forever."""

from __future__ import annotations

import logging
import socket

import psutil

from monitoring.models import Task

logger = logging.getLogger(__name__)

ORPHAN_MESSAGE = "The worker running this job stopped before it finished (killed or crashed). Run it again."


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def fail_orphaned_tasks() -> list[str]:
    """Mark failed the running tasks of this host whose worker process no longer exists.

    Called whenever a queue worker process starts, which is also when django-q replaces a
    worker that died: the dead worker's job is then reported instead of hanging.
    """
    host = socket.gethostname()
    orphaned = []
    for task in Task.objects.filter(status=Task.Status.RUNNING, worker_host=host):
        if task.worker_pid and not _alive(task.worker_pid):
            task.remove_scratch()  # first: whoever sees the task failed finds no half-written files
            task.finish(Task.Status.FAILED, ORPHAN_MESSAGE, {**task.result, "http_status": 500})
            orphaned.append(task.pk)
    if orphaned:
        logger.warning("Marked orphaned tasks failed: %s", ", ".join(orphaned))
    return orphaned


def resend_queued_tasks(queue: str) -> list[str]:
    """Hand the broker again every task of ``queue`` our table still has as queued.

    A broker can lose its messages (Redis restarted without persistence, a flushed list); our
    Task table cannot. Sending a task twice is harmless: only one worker can claim it.
    """
    from monitoring.jobs import enqueue

    resent = []
    for task in Task.objects.filter(status=Task.Status.QUEUED, queue=queue).order_by("created_at"):
        enqueue(task)
        resent.append(task.pk)
    if resent:
        logger.info("Sent queued tasks to %s again: %s", queue, ", ".join(resent))
    return resent


def on_worker_spawn(sender, proc_name, **kwargs) -> None:
    from django_q.conf import Conf

    try:
        fail_orphaned_tasks()
        resend_queued_tasks(Conf.CLUSTER_NAME)
    except Exception:  # never keep a worker from starting
        logger.exception("Could not recover tasks")
