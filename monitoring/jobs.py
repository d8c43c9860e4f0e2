"""Submitting jobs to the queues and waiting for them: what views and the admin call."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ApiError, Conflict, ServiceUnavailable
from avatar_site.lib.storage import disk_full_message, media_disk_full
from monitoring.models import HistoryRecord, Task

logger = logging.getLogger(__name__)


class TaskNotQueued(ServiceUnavailable):
    """The task (and its history row) exist and are marked failed; the request needs no other row."""

    history_written = True


class QueueUnavailable(TaskNotQueued):
    pass


def queue_for(gpu_choice: str) -> str:
    """The queue of a client's gpu_choice; 400 for a GPU this site does not have."""
    if gpu_choice not in settings.GPU_QUEUES:
        raise ApiError(_("gpu_choice: unknown GPU %(gpu)r; this site has %(gpus)s.")
                       % {"gpu": gpu_choice, "gpus": ", ".join(settings.GPU_QUEUES)})
    return gpu_choice


def submit(
    kind: str,
    job: Callable | str,
    parameters: dict,
    owner=None,
    queue: str | None = None,
    gpu: str = "",
    language: str | None = None,
) -> Task:
    """Create the Task and its history row, then hand the task to its queue. The job writes its
    messages in ``language``, by default the request's."""
    handler = job if isinstance(job, str) else f"{job.__module__}.{job.__qualname__}"
    # Together or not at all: a task without its history row would run unrecorded (recovery
    # resends queued tasks) after the client was told the request failed.
    with transaction.atomic():
        task = Task.create_with_unique_id(
            kind,
            handler=handler,
            parameters=parameters,
            owner=owner if owner is not None and owner.is_authenticated else None,
            queue=queue or settings.CPU_QUEUE,
            gpu=gpu,
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
        )
        HistoryRecord.objects.create(
            type=kind, parameters=parameters, status=HistoryRecord.Status.QUEUED, task=task, owner=task.owner
        )
    if media_disk_full():
        # Failed like any job, so what the view made for it (a speaker, an avatar) is released too.
        if task.finish(Task.Status.FAILED, disk_full_message(), {"http_status": 503}, only_if=Task.Status.QUEUED):
            raise TaskNotQueued(task.message)
    else:
        enqueue(task)
    task.refresh_from_db()
    return task


def enqueue(task: Task) -> None:
    """Hand a new task to its queue; if the broker refuses, the task fails (503) at once."""
    try:
        send(task)
    except Exception as exc:
        logger.exception("Could not enqueue task %s", task.pk)
        # The broker may have taken it before the error: a worker may be running it already.
        if task.finish(Task.Status.FAILED, _("The job queue is unavailable: %(reason)s") % {"reason": exc},
                       only_if=Task.Status.QUEUED):
            raise QueueUnavailable(task.message) from None


def send(task: Task) -> None:
    from django_q.tasks import async_task

    q_id = async_task("monitoring.runner.run_task", task.pk, cluster=task.queue, task_name=task.pk)
    try:  # only bookkeeping (the admin shows it): the job is on its way whatever happens here
        Task.objects.filter(pk=task.pk).update(q_task_id=q_id or "")
    except DatabaseError:
        logger.exception("Could not record django-q's id of task %s", task.pk)


def send_housekeeping(handler: str, *args, queue: str, name: str) -> None:
    """Put work that is no user's task (a queue's sweep, a deleted avatar's training data) on
    ``queue``: no Task row, no django-q Success row. A broker that refuses it is logged, not
    raised: the caller's own work is done."""
    from django_q.tasks import async_task

    try:
        async_task(handler, *args, cluster=queue, task_name=name, save=False)
    except Exception:
        logger.exception("Could not send %s to %s", name, queue)


def delete_unless_used(row, name: str) -> None:
    """Delete a user's row (its delete() removes its files); 409 while queued or running tasks
    name it, as the admin keeps it then."""
    with transaction.atomic():  # a submit naming it waits (SQLite: IMMEDIATE) or comes after
        if using := list(Task.objects.unfinished_naming(row).values_list("pk", flat=True)[:5]):
            raise Conflict(_("%(name)s is used by queued or running tasks (%(tasks)s): cancel them first.")
                           % {"name": name, "tasks": ", ".join(using)})
        try:
            row.delete()
        except OSError as exc:  # its files stay: so does the row (the transaction is undone)
            logger.exception("Could not delete the files of %s", name)
            raise ServiceUnavailable(_("%(name)s was not deleted: its files cannot be removed (%(error)s).")
                                     % {"name": name, "error": exc.strerror or exc}) from None


def retry_refusal(task: Task) -> str | None:
    """Why ``task`` cannot be run again; None when it can."""
    if task.status not in (Task.Status.FAILED, Task.Status.CANCELLED):
        return _("Only a failed or cancelled task runs again; task %(pk)s has not ended so.") % {"pk": task.pk}
    again = Task.objects.filter(parameters__retry_of=task.pk).exclude(
        status__in=[Task.Status.FAILED, Task.Status.CANCELLED]).first()
    if again is not None:  # the same work twice
        return _("Task %(pk)s runs again already, as %(again)s.") % {"pk": task.pk, "again": again.pk}
    if task.queue not in [*settings.GPU_QUEUES, settings.CPU_QUEUE]:  # GPU_QUEUES changed since
        return _("Task %(pk)s ran on queue %(queue)s, which this site no longer has; send the request anew.") % {
            "pk": task.pk, "queue": task.queue}
    # A job may say what keeps it from running again (``job.retry_refusal = check``, check(task)
    # answering a reason or None): what it needs may be gone, or not its own any more.
    try:
        job = import_string(task.handler)
    except ImportError:
        return _("Task %(pk)s's job no longer exists here; send the request anew.") % {"pk": task.pk}
    check = getattr(job, "retry_refusal", None)
    return check(task) if check is not None else None


def retry(task: Task) -> Task:
    """Submit a finished task's job again, as a new task with the same parameters, ``retry_of``
    and the time of the original request (its job uses only rows that existed then)."""
    parameters = {**task.parameters, "retry_of": task.pk,
                  "requested_at": task.parameters.get("requested_at") or task.created_at.isoformat()}
    return submit(task.kind, task.handler, parameters, owner=task.owner, queue=task.queue, gpu=task.gpu,
                  language=task.language or None)


def wait(task: Task, timeout: float, poll: float = 0.25) -> Task:
    """Wait up to ``timeout`` seconds for a task to finish; return it refreshed either way.

    A task deleted meanwhile (the admin cancels a queued task, then deletes it) counts as cancelled.
    """
    deadline = time.monotonic() + timeout
    try:
        task.refresh_from_db()
        while not task.is_finished and time.monotonic() < deadline:
            time.sleep(poll)
            task.refresh_from_db()
    except Task.DoesNotExist:
        task.status = Task.Status.CANCELLED
    return task
