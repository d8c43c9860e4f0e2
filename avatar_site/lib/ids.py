"""Rows named like the spec's ids (``user_20251218``, ``train_20251218_054414``), suffixed when taken."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls.converters import StringConverter
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ServiceUnavailable


def create_with_free_id(model, base: str, attempts: int, **fields):
    """Create a ``model`` row whose id is ``base``, else ``base_2``, ``base_3``… up to ``attempts``.

    The ids already taken are read once. An insert that still fails because a concurrent request
    took the same id moves on to the next; one that fails for any other reason (a check
    constraint on a field) is re-raised, not retried as if the id were taken.
    """
    taken = set(model.objects.filter(id__startswith=base).values_list("id", flat=True))
    for attempt in range(1, attempts + 1):
        candidate = base if attempt == 1 else f"{base}_{attempt}"
        if candidate in taken:
            continue
        try:
            with transaction.atomic():
                return model.objects.create(id=candidate, **fields)
        except IntegrityError:
            if not model.objects.filter(id=candidate).exists():
                raise
    raise ServiceUnavailable(_("All %(attempts)s ids %(base)s… are taken; try again later.")
                             % {"attempts": attempts, "base": base})


class RowIdConverter(StringConverter):
    """A row's id in a URL (``<row_id:task_id>``): ``<str:…>`` without NUL, which PostgreSQL refuses
    in a query (a 500 there); such a URL matches no route and is a 404."""

    regex = "[^/\x00]+"
