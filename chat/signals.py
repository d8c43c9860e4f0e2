from __future__ import annotations

from chat.models import Conversation, Recording


def prune_chat(sender, cutoff, dry_run: bool, **kwargs) -> int:
    """Users' recordings (and conversations with no turn since) older than the cutoff."""
    recordings = Recording.objects.filter(created_at__lt=cutoff)
    stale = Conversation.objects.filter(created_at__lt=cutoff).exclude(turns__created_at__gte=cutoff)
    removed = recordings.count()
    if not dry_run:
        for recording in recordings:
            recording.delete()
        stale.delete()
    return removed


prune_chat.pruned_what = "recording(s)"
