from __future__ import annotations

from monitoring.models import HistoryType, Task
from training.models import Avatar


def fail_avatar_of_failed_training(sender, task: Task, **kwargs) -> None:
    """A training that did not succeed leaves a failed avatar and no files, even when its job never ran.

    Only the avatar this task trains, or the one its request made if no job has taken it yet: a
    retry cancelled while another retry trains the avatar must leave that training alone.
    """
    if task.kind != HistoryType.MODEL_TRAINING or task.status == Task.Status.SUCCEEDED:
        return
    ours = Avatar.objects.filter(pk=task.parameters.get("avatar_id"), status=Avatar.Status.TRAINING,
                                 trained_by__in=["", task.pk])
    for avatar in ours:
        avatar.delete_files()
        avatar.status = Avatar.Status.FAILED
        avatar.save(update_fields=["status"])
