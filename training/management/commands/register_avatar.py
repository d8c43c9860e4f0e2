"""Register a SyncTalk or ER-NeRF workspace trained outside the platform as a ready avatar."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from avatar_site.lib.errors import ApiError
from training.registration import RegistrationError, register_nerf_avatar


class Command(BaseCommand):
    help = ("Copy a SyncTalk/ER-NeRF workspace (upstream's --workspace folder, with checkpoints/ngp_ep*.pth) "
            "into a new avatar that renders from data/<data-id> of this host's checkout. Run it on that GPU host; "
            "its checkpoints are unpickled when rendering, so register only workspaces you trust.")

    def add_arguments(self, parser):
        parser.add_argument("engine", help="SyncTalk or ER-NeRF")
        parser.add_argument("workspace", type=Path)
        parser.add_argument("--data-id", required=True, help="the folder under the checkout's data/")
        parser.add_argument("--asr", required=True, help="the audio features it was trained with (ave, deepspeech…)")
        parser.add_argument("--torso", action="store_true", help="a torso workspace (render without --portrait)")
        parser.add_argument("--owner", required=True, help="user name of the avatar's owner")
        parser.add_argument("--gpu", default=None,
                            help="the GPU queue this host serves (needed where GPU_QUEUES lists several)")

    def handle(self, *args, engine, workspace, data_id, asr, torso, owner, gpu, **options):
        try:
            user = get_user_model().objects.get(username=owner)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {owner!r}.") from None
        if gpu is None:
            if len(settings.GPU_QUEUES) > 1:  # this command cannot tell which of them this host serves
                raise CommandError(f"Name the GPU queue this host serves: --gpu {' or '.join(settings.GPU_QUEUES)}.")
            gpu = settings.GPU_QUEUES[0]
        if gpu not in settings.GPU_QUEUES:
            raise CommandError(f"No GPU queue {gpu!r}; this site has {', '.join(settings.GPU_QUEUES)}.")
        try:
            avatar = register_nerf_avatar(engine, workspace, data_id, asr, torso, user, gpu)
        except (RegistrationError, ApiError) as exc:  # unknown engine, checkout unusable
            raise CommandError(str(getattr(exc, "detail", exc))) from None
        self.stdout.write(f"Registered {engine} avatar {avatar.id} (model_param) for {owner}.")
