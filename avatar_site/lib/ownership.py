"""Rows that belong to a user: staff see every row, others their own."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.dateparse import parse_datetime


class OwnedQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_staff else self.filter(owner=user)

    def for_job(self, task):
        """What ``task``'s job may use: rows its owner may use (staff: all) that existed when its
        request was made. Ids are freed when a row is deleted and given to the next new row,
        another user's too, which a job (a retry above all) must not take for the one it named."""
        owner = task.owner
        rows = self if owner is not None and owner.is_staff else self.filter(owner=owner)
        return rows.filter(created_at__lte=requested_at(task))


def requested_at(task) -> datetime:
    """When the request behind ``task`` was made: a retry keeps its original's time."""
    return parse_datetime(task.parameters.get("requested_at") or "") or task.created_at
