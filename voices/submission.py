"""Starting the jobs of an /audio_clone request: cloning a voice (the speaker's row, then its
queued extraction) or speaking text in a cloned one."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from avatar_site.lib.errors import Conflict, Unprocessable
from avatar_site.lib.media_access import may_use_input
from avatar_site.lib.uploads import as_given, discard_upload, is_upload, media_input
from monitoring import jobs
from monitoring.models import HistoryType, Task
from voices import tasks
from voices.cloning import MIN_REFERENCE_SECONDS
from voices.engines import get_voice_engine
from voices.models import Speaker


def _taken(audio_id: str) -> Conflict:
    return Conflict(_("audio_id: speaker %(audio_id)r already exists.") % {"audio_id": audio_id})


def submit_clone(data: dict, user) -> tuple[Task, Speaker]:
    """Check the engine and the reference, reserve the audio_id as a new speaker and queue the
    extraction; a refusal on the way leaves neither the speaker nor an uploaded reference."""
    engine = data.get("engine") or settings.VOICE_ENGINE
    get_voice_engine(engine)  # 400 for an unknown one, 503 for one this site cannot run
    if Speaker.objects.filter(pk=data["audio_id"]).exists():
        raise _taken(data["audio_id"])
    source, info = media_input(data["original_audio_path"], "original_audio_path", need_audio=True,
                               may_use=partial(may_use_input, user))
    if refusal := _reference_length_refusal(info.duration):  # known from the probe: no job needed to say so
        discard_upload(source, data["original_audio_path"])
        raise Unprocessable(f"original_audio_path: {refusal}")
    try:
        with transaction.atomic():  # a savepoint, so that a taken id leaves a usable connection
            speaker = Speaker.objects.create(
                id=data["audio_id"], name=data.get("name") or data["audio_id"], engine=engine,
                owner=user, profile={"prompt_text": data.get("prompt_text", "")},
            )
    except IntegrityError:
        discard_upload(source, data["original_audio_path"])
        raise _taken(data["audio_id"]) from None
    try:
        task = jobs.submit(
            HistoryType.AUDIO_CLONE,
            tasks.extract_voice,
            {"mode": "clone", "audio_id": speaker.id, "engine": engine, "source_path": str(source),
             "source_uploaded": is_upload(data["original_audio_path"]),
             "original_audio_path": as_given(data["original_audio_path"]),
             "prompt_text": data.get("prompt_text", "")},
            owner=user,
        )
    except jobs.TaskNotQueued:
        raise  # its task failed like any job, and released the speaker
    except Exception:
        speaker.delete()  # no task was made for it: free the audio_id
        discard_upload(source, data["original_audio_path"])
        raise
    return task, speaker


def _reference_length_refusal(seconds: float) -> str | None:
    if seconds < MIN_REFERENCE_SECONDS:
        return _("The reference has less than %(minimum).0f s of audio.") % {"minimum": MIN_REFERENCE_SECONDS}
    if seconds > settings.MAX_REFERENCE_SECONDS:
        return _("The reference is longer than the limit of %(limit).0f s; trim it.") % {
            "limit": settings.MAX_REFERENCE_SECONDS}
    return None


def submit_speech(data: dict, user) -> tuple[Task, Speaker]:
    """Queue speaking ``generate_text`` in one of the user's ready voices."""
    speaker = Speaker.objects.visible_to(user).get_ready(data["audio_id"], "audio_id")
    task = jobs.submit(
        HistoryType.AUDIO_CLONE,
        tasks.generate_audio,
        {"mode": "generate", "audio_id": speaker.id, "gen_audio_id": data["gen_audio_id"],
         "generate_text": data["generate_text"], "engine": speaker.engine},
        owner=user,
    )
    return task, speaker
