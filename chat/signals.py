from __future__ import annotations

from chat.models import Conversation, Recording, Turn
from monitoring.models import HistoryType, Task


def prune_chat(sender, cutoff, dry_run: bool, **kwargs) -> int:
    """Users' recordings (and conversations with no turn since) older than the cutoff."""
    # Not what a queued or running job is about to read.
    in_use = Task.objects.filter(kind=HistoryType.CHAT_SYSTEM, status__in=Task.UNFINISHED)
    recordings = [recording for recording in Recording.objects.filter(created_at__lt=cutoff)
                  if not Task.objects.unfinished_naming(recording).exists()]
    stale = Conversation.objects.filter(created_at__lt=cutoff).exclude(turns__created_at__gte=cutoff).exclude(
        pk__in=[task.parameters.get("conversation_id") for task in in_use])
    removed = len(recordings)
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
