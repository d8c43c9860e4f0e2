"""Queued voice jobs. Each takes the Task row and a Progress, and returns the task's result."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from avatar_site.lib.paths import media_url
from voices.cloning import clone_speaker, generated_audio_path, speak
from voices.engines.base import VoiceError, wav_seconds
from voices.models import Speaker


def extract_voice(task, progress) -> dict:
    speaker = Speaker.objects.reserved_for(task).first()
    if speaker is None:
        raise VoiceError(_("This clone cannot run again: send the reference to /audio_clone anew."))
    clone_speaker(speaker, Path(task.parameters["source_path"]), progress)
    return {"speaker_id": speaker.id, "reference_audio": media_url(speaker.reference_path)}


def _clone_retry_refusal(task) -> str:
    # Its speaker was released when it ended; a retry could only take over a newer clone of the
    # same audio_id.
    return _("A voice clone does not run again: send the reference to /audio_clone anew.")


extract_voice.retry_refusal = _clone_retry_refusal


def generate_audio(task, progress) -> dict:
    speaker = Speaker.objects.for_job(task).get(pk=task.parameters["audio_id"])
    output = speak(
        speaker, task.parameters["generate_text"], generated_audio_path(task, task.parameters["gen_audio_id"]), progress
    )
    return {
        "cloned_audio_path": media_url(output),
        "speaker_id": speaker.id,
        "engine": speaker.engine,
        "audio_seconds": round(wav_seconds(output), 2),
        "files": [str(output)],
    }
