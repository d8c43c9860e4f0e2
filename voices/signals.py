from __future__ import annotations

from monitoring.models import HistoryType, Task
from voices.models import Speaker


def release_speaker_of_failed_clone(sender, task: Task, **kwargs) -> None:
    """A clone that did not succeed frees its audio_id, even when its job never ran."""
    if task.kind != HistoryType.AUDIO_CLONE or task.parameters.get("mode") != "clone":
        return
    if task.status == Task.Status.SUCCEEDED:
        return
    for speaker in Speaker.objects.reserved_for(task):
        speaker.delete()
