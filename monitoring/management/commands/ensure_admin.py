"""Create the first staff account if there is none (run by `make run`)."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a superuser from DJANGO_SUPERUSER_USERNAME/_PASSWORD, or with a generated password printed once."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip() or "admin"
        if User.objects.filter(username=username).exists():
            raise CommandError(f"There is no superuser, and '{username}' is an ordinary account: make it one with "
                               f"'manage.py shell' or set DJANGO_SUPERUSER_USERNAME to another name.")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""),
                                      password=password)
        if generated:
            self.stdout.write(self.style.WARNING(
                f"Created the admin account '{username}' with password: {password}\n"
                "It is shown only this once; change it in the admin."
            ))
        else:
            self.stdout.write(f"Created the admin account '{username}'.")
