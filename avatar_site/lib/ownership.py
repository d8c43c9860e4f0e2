"""Rows that belong to a user: staff see every row, others their own."""

from __future__ import annotations

from django.db import models


class OwnedQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_staff else self.filter(owner=user)

    def usable_by(self, owner):
        """What a job may use for its task's ``owner``: ids are freed when a row is deleted and
        can be given to another user's new row, which a retried task must not take for its own."""
        return self if owner is not None and owner.is_staff else self.filter(owner=owner)
