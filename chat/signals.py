from __future__ import annotations

from pathlib import Path

from django.conf import settings

from chat.models import Conversation, Recording, Turn
from monitoring.models import HistoryType, Task


def prune_chat(sender, cutoff, dry_run: bool, **kwargs) -> int:
    """Users' recordings (and conversations with no turn since) older than the cutoff."""
    # Not what a queued or running job is about to read (Task.objects.unfinished_naming, for all
    # old rows at once): a chat turn's recording and conversation, or a recording a clone reads by path.
    unfinished = [task.parameters for task in Task.objects.filter(status__in=Task.UNFINISHED)]

    def named(keys) -> list[str]:
        return [str(parameters[key]) for parameters in unfinished for key in keys if parameters.get(key)]

    media = settings.MEDIA_ROOT.resolve()
    read_by_path = [Path(path).resolve() for path in named(Recording.task_path_parameters)]
    recordings = Recording.objects.filter(created_at__lt=cutoff).exclude(pk__in=named(Recording.task_parameters)).exclude(
        file__in=[path.relative_to(media).as_posix() for path in read_by_path if path.is_relative_to(media)])
    stale = Conversation.objects.filter(created_at__lt=cutoff).exclude(turns__created_at__gte=cutoff).exclude(
        pk__in=named(Conversation.task_parameters))
    removed = recordings.count()
    if not dry_run:
        for recording in recordings:
            recording.delete()
        stale.delete()
    return removed


prune_chat.pruned_what = "recording(s)"


def drop_turn_of_failed_chat(sender, task: Task, **kwargs) -> None:
    """A chat job that did not succeed keeps no turn (it may have written one before its worker died)."""
    if task.kind == HistoryType.CHAT_SYSTEM and task.status != Task.Status.SUCCEEDED:
        Turn.objects.filter(task=task).delete()
