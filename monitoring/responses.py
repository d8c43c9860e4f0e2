"""The spec's answers for requests that ran (or started) a queued job."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from avatar_site.lib.errors import error_response
from monitoring import jobs
from monitoring.models import Task


def accepted(task: Task, message: str | None = None) -> Response:
    if message is None:
        message = _("Task submitted; follow it at status_url.")
    return Response(
        {"status": "accepted", "task_id": task.pk, "task_status": task.status, "message": message,
         "status_url": f"/api/tasks/{task.pk}"},
        status=status.HTTP_202_ACCEPTED,
    )


def finished_task_response(task: Task, message: str, success_fields: Callable[[dict], dict]) -> Response:
    if task.status == Task.Status.SUCCEEDED:
        return Response({"status": "success", "message": message, "task_id": task.pk, **success_fields(task.result)})
    if task.status == Task.Status.CANCELLED:
        return error_response(_("Task %(pk)s was cancelled.") % {"pk": task.pk}, status.HTTP_409_CONFLICT)
    return error_response(task.message, task.result.get("http_status", 500))


def wait_and_answer(task: Task, is_async: bool, message: str, success_fields: Callable[[dict], dict]) -> Response:
    """Answer at once (202) when asked to, else wait for the job like the spec's synchronous API."""
    if is_async:
        return accepted(task)
    task = jobs.wait(task, settings.SYNC_WAIT_SECONDS)
    if not task.is_finished:
        if task.status == Task.Status.QUEUED:
            return accepted(task, _("The task is still waiting for a worker of queue %(queue)s; "
                                    "follow it at status_url.") % {"queue": task.queue})
        return accepted(task, _("The task is still running; follow it at status_url."))
    response = finished_task_response(task, message, success_fields)
    response.data["task_id"] = task.pk
    return response
