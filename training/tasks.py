from __future__ import annotations

from training.models import Avatar
from training.trainer import train_avatar


def train(task, progress) -> dict:
    avatar = Avatar.objects.get(pk=task.parameters["avatar_id"])
    manifest = train_avatar(avatar, progress)
    return {
        "avatar_id": avatar.id,
        "speaker_id": avatar.id,
        "model_param": avatar.id,
        "engine": avatar.engine,
        "metrics": avatar.metrics,
        "frames": manifest.get("frames"),
    }
