from __future__ import annotations

from django.conf import settings

from avatar_site.lib.storage import prune_orphan_folders
from monitoring.models import HistoryType, Task
from training.models import Avatar


def fail_avatar_of_failed_training(sender, task: Task, **kwargs) -> None:
    """A training that did not succeed leaves a failed avatar and no files, even when its job never ran.

    Only the avatar this task trains, or the one its request made if no job has taken it yet: a
    retry cancelled while another retry trains the avatar must leave that training alone.
    """
    if task.kind != HistoryType.MODEL_TRAINING or task.status == Task.Status.SUCCEEDED:
        return
    ours = Avatar.objects.for_job(task).filter(
        pk=task.parameters.get("avatar_id"), status=Avatar.Status.TRAINING, trained_by__in=["", task.pk])
    for avatar in ours:
        avatar.mark_untrained(Avatar.Status.CANCELLED if task.status == Task.Status.CANCELLED else Avatar.Status.FAILED)


def prune_failed_avatars(sender, cutoff, dry_run: bool, **kwargs) -> int:
    """Avatars whose training failed or was cancelled before the cutoff (their files went with it),
    unless a queued or running retry is about to train them."""
    failed = Avatar.objects.filter(status__in=Avatar.UNTRAINED, created_at__lt=cutoff).exclude(
        pk__in=[task.parameters.get("avatar_id") for task in
                Task.objects.filter(kind=HistoryType.MODEL_TRAINING, status__in=Task.UNFINISHED)])
    removed = failed.count()
    if not dry_run:
        for avatar in failed:
            avatar.delete()
    return removed


prune_failed_avatars.pruned_what = "failed or cancelled avatar(s)"


def prune_orphan_avatar_folders(sender, cutoff, dry_run: bool, **kwargs) -> int:
    return prune_orphan_folders(settings.MEDIA_ROOT / "avatars", Avatar.objects.values_list("pk", flat=True),
                                cutoff, dry_run)


prune_orphan_avatar_folders.pruned_what = "avatar folder(s) that no avatar owns"
