"""Rows that belong to a user: staff see every row, others their own."""

from __future__ import annotations

from django.db import models


class OwnedQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_staff else self.filter(owner=user)
