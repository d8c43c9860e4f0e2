from __future__ import annotations

from django.conf import settings

from avatar_site.lib.storage import prune_orphan_folders
from avatar_site.lib.uploads import UPLOAD_PREFIX, delete_upload
from monitoring.models import HistoryType, Task
from voices.models import Speaker


def was_uploaded(parameters: dict) -> bool:
    """Whether a clone's reference was an upload; tasks from before ``source_uploaded`` was
    recorded tell it by how history names an upload (``as_given``)."""
    if "source_uploaded" in parameters:
        return parameters["source_uploaded"]
    return str(parameters.get("original_audio_path", "")).startswith(UPLOAD_PREFIX)


def end_of_clone(sender, task: Task, **kwargs) -> None:
    """However a clone ended, its uploaded voice sample goes: the voice keeps its own copies, and
    a clone never runs again; a voice sample is personal data. One that did not succeed frees
    its audio_id, even when its job never ran."""
    if task.kind != HistoryType.AUDIO_CLONE or task.parameters.get("mode") != "clone":
        return
    if was_uploaded(task.parameters):
        delete_upload(task.parameters["source_path"])
    if task.status == Task.Status.SUCCEEDED:
        return
    for speaker in Speaker.objects.reserved_for(task):
        speaker.release()


def prune_orphan_voice_folders(sender, cutoff, dry_run: bool, **kwargs) -> int:
    return prune_orphan_folders(settings.MEDIA_ROOT / "voices" / "speakers",
                                Speaker.objects.values_list("pk", flat=True), cutoff, dry_run)


prune_orphan_voice_folders.pruned_what = "voice folder(s) that no voice owns"
