"""Deleting an account with everything it owns: staff deleting a user in the admin.

The apps' rows point at their owner with ``on_delete=SET_NULL`` (a bulk delete would leave their
files), so a deleted account's avatars, voices, recordings, tasks and history are deleted here
first, one by one through each row's own ``delete()`` (which removes its files). Monitoring names
no other app: the owned models are those with an ``owner`` foreign key to the user model.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils.translation import gettext as _

from avatar_site.lib.errors import Conflict
from monitoring import jobs
from monitoring.models import HistoryRecord, Task


def owned_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if _owned(model)]


def _owned(model) -> bool:
    try:
        field = model._meta.get_field("owner")
    except FieldDoesNotExist:
        return False
    return field.is_relation and field.related_model is get_user_model()


def _rows(user):
    """The user's rows other than tasks and history, each with the task parameters naming it."""
    for model in owned_models():
        if model not in (Task, HistoryRecord):
            yield from model.objects.filter(owner=user)


def blockers(user) -> list[str]:
    """What keeps the account from being deleted now: its queued or running tasks, and its rows
    that unfinished tasks (of anyone) use."""
    found = [_("task %(pk)s") % {"pk": pk} for pk in
             Task.objects.filter(owner=user, status__in=Task.UNFINISHED).values_list("pk", flat=True)]
    for row in _rows(user):
        if hasattr(row, "task_parameters") and Task.objects.unfinished_naming(row).exists():
            found.append(f"{row._meta.verbose_name} {row.pk}")
    return found


def contents(user) -> dict[type[models.Model], int]:
    """How many rows of each kind go with the account (for the confirmation page)."""
    counts = {}
    for model in owned_models():
        if count := model.objects.filter(owner=user).count():
            counts[model] = count
    return counts


def delete_account(user) -> None:
    """Delete ``user`` with their rows (and files), tasks (and outputs) and history; Conflict, with
    nothing of theirs deleted, while any of it is in use (``blockers``). Files that cannot be
    removed stop it with ServiceUnavailable: the rows deleted before stay deleted, the account
    and its tasks and history stay."""
    if busy := blockers(user):
        raise Conflict(_("%(user)s still has work under way: %(busy)s. Cancel it first.")
                       % {"user": user, "busy": ", ".join(busy)})
    # The rows first: their files are what can refuse to go (ServiceUnavailable), and then the
    # account keeps its tasks and history, not only the rows that stayed.
    for row in _rows(user):
        jobs.delete_unless_used(row, str(row.pk))
    with transaction.atomic():
        for task in Task.objects.filter(owner=user):
            if not task.discard():  # it started since: the check above is not a lock
                raise Conflict(_("%(user)s's task %(pk)s started meanwhile: cancel it first.")
                               % {"user": user, "pk": task.pk})
        HistoryRecord.objects.filter(owner=user).delete()
        user.delete()
