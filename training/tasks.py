from __future__ import annotations

from training.engines.base import EngineError
from training.models import Avatar
from training.trainer import train_avatar


def train(task, progress) -> dict:
    avatar_id = task.parameters["avatar_id"]
    # A retry of a failed training takes its avatar back; one that is ready (an earlier retry
    # succeeded) or gone is refused: retraining in place would wipe files that renders read.
    Avatar.objects.filter(pk=avatar_id, status=Avatar.Status.FAILED).update(status=Avatar.Status.TRAINING)
    avatar = Avatar.objects.filter(pk=avatar_id, status=Avatar.Status.TRAINING).first()
    if avatar is None:
        raise EngineError(f"Avatar {avatar_id} is already trained or was deleted: train a new one with /model_training.")
    manifest = train_avatar(avatar, progress)
    return {
        "avatar_id": avatar.id,
        "speaker_id": avatar.id,
        "model_param": avatar.id,
        "engine": avatar.engine,
        "metrics": avatar.metrics,
        "frames": manifest.get("frames"),
    }
