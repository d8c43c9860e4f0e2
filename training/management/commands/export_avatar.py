"""Pack a trained avatar as the .zip another site's /video_generation takes as model_param."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.archive import pack_avatar
from training.engines import talking_head_engine_as_configured
from training.models import Avatar


class Command(BaseCommand):
    help = ("Write a ready avatar's manifest and engine files as a .zip, which a client of another site uploads "
            "as model_param of /video_generation (built-in avatars: SyncTalk/ER-NeRF checkpoints are pickles, "
            "which no site accepts from an upload).")

    def add_arguments(self, parser):
        parser.add_argument("avatar_id")
        parser.add_argument("target", type=Path, help="the .zip to write")

    def handle(self, *args, avatar_id, target, **options):
        avatar = Avatar.objects.filter(pk=avatar_id).first()
        if avatar is None or avatar.status != Avatar.Status.READY:
            raise CommandError(f"No ready avatar {avatar_id!r}.")
        engine = talking_head_engine_as_configured(avatar.engine)
        if engine is None or not engine.archive_files:
            raise CommandError(f"{avatar.engine} avatars cannot be moved as an archive; only built-in ones can.")
        if target.suffix != ".zip":
            raise CommandError("The target must end in .zip.")
        pack_avatar(avatar, target, engine)
        self.stdout.write(f"Wrote {target} ({target.stat().st_size} bytes).")
