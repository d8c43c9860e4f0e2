from __future__ import annotations

from django.utils.translation import gettext as _

from avatar_site.lib.storage import remove_tree
from training.engines import talking_head_engine_as_configured
from training.engines.base import EngineError
from training.models import Avatar
from training.trainer import train_avatar


def train(task, progress) -> dict:
    avatar_id = task.parameters["avatar_id"]
    avatar = Avatar.objects.claim_for_training(task, avatar_id)
    if avatar is None:
        raise EngineError(_("Avatar %(avatar)s is already trained, being trained by another task, or was deleted: "
                            "train a new one with /model_training.") % {"avatar": avatar_id})
    manifest = train_avatar(avatar, progress)
    return {
        "avatar_id": avatar.id,
        "speaker_id": avatar.id,
        "model_param": avatar.id,
        "engine": avatar.engine,
        "metrics": avatar.metrics,
        "frames": manifest.get("frames"),
    }


def _training_retry_refusal(task) -> str | None:
    """The job refuses an avatar that is ready, being trained or gone (train above): say so now."""
    avatar = Avatar.objects.for_job(task).filter(pk=task.parameters.get("avatar_id")).first()
    if avatar is None:
        return _("Avatar %(avatar)s was deleted: train a new one with /model_training.") % {
            "avatar": task.parameters.get("avatar_id")}
    if avatar.status not in Avatar.UNTRAINED:
        return _("Avatar %(avatar)s is %(status)s: it is not trained again.") % {
            "avatar": avatar.pk, "status": _(avatar.get_status_display())}
    return None


train.retry_refusal = _training_retry_refusal


def remove_training_data(engine: str, avatar_id: str) -> None:
    """Run by the worker of the GPU queue that trained a deleted avatar (sent by Avatar.delete_files
    from a host without the checkout): its ``<home>/data/<id>``, unless the id belongs to a new
    avatar again by now (ids freed by a deletion are given to new rows)."""
    if Avatar.objects.filter(pk=avatar_id).exclude(status__in=Avatar.UNTRAINED).exists():
        return
    talking_head = talking_head_engine_as_configured(engine)
    folder = talking_head and talking_head.training_data(avatar_id)
    if folder is not None:
        remove_tree(folder)
