"""Cloning voices and speaking text in them; the one entry point every pipeline uses."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.media import MediaError, probe, to_wav
from avatar_site.lib.storage import remove_tree
from voices.engines import get_voice_engine
from voices.engines.base import VoiceError, wav_seconds
from voices.models import Speaker

REFERENCE_RATE = 16000
MIN_REFERENCE_SECONDS = 3.0


def clone_speaker(speaker: Speaker, source: Path, progress) -> Speaker:
    """Normalise the reference, let the engine extract the voice, and mark the speaker ready.

    On failure the speaker's folder and row are removed, so the id can be used again.
    """
    folder = speaker.folder
    try:
        remove_tree(folder)  # what a deleted speaker of the same id may have left is not this one's
        folder.mkdir(parents=True)
        progress(5, _("Decoding the reference recording"))
        original = folder / "reference_original.wav"
        reference = folder / "reference.wav"
        try:
            to_wav(source, original, rate=_original_rate(source), channels=1)
            to_wav(source, reference, rate=REFERENCE_RATE, channels=1)
        except MediaError as exc:
            raise VoiceError(_("The reference recording cannot be decoded: %(exc)s") % {"exc": exc}) from None
        if wav_seconds(reference) > settings.MAX_REFERENCE_SECONDS:
            raise VoiceError(
                _("The reference is longer than the limit of %(limit).0f s; trim it.") % {"limit": settings.MAX_REFERENCE_SECONDS}
            )
        if wav_seconds(reference) < MIN_REFERENCE_SECONDS:
            raise VoiceError(_("The reference has less than %(minimum).0f s of audio.")
                             % {"minimum": MIN_REFERENCE_SECONDS})
        engine = get_voice_engine(speaker.engine)
        profile = engine.extract(reference, original, folder, progress.scaled(10, 100))
    except BaseException:
        speaker.release()
        raise
    speaker.reference_audio = reference.relative_to(settings.MEDIA_ROOT).as_posix()
    # What the request stored (the transcript, prompt_text) stays beside what the engine measured.
    speaker.profile = {**(speaker.profile or {}), **profile}
    speaker.status = Speaker.Status.READY
    speaker.save(update_fields=["reference_audio", "profile", "status"])
    return speaker


def _original_rate(source: Path) -> int:
    try:
        rate = probe(source).audio_rate
    except MediaError:
        rate = 0
    return min(max(rate or 44100, REFERENCE_RATE), 48000)


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise VoiceError(_("The text to speak is empty."))
    if len(text) > settings.MAX_TEXT_CHARS:
        raise VoiceError(_("The text is longer than %(limit)s characters.") % {"limit": settings.MAX_TEXT_CHARS})
    return text


def speak(speaker: Speaker, text: str, output: Path, progress) -> Path:
    """Speak ``text`` in ``speaker``'s voice into the WAV file ``output``."""
    if speaker.status != Speaker.Status.READY:
        raise VoiceError(_("Speaker %(id)s is not ready (%(status)s).")
                         % {"id": speaker.id, "status": _(speaker.get_status_display())})
    engine = get_voice_engine(speaker.engine)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.stem}.{uuid.uuid4().hex}.partial.wav")
    try:
        engine.synthesize(check_text(text), speaker.folder, speaker.profile, partial, progress)
        shutil.move(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return output


def generated_audio_path(task, gen_audio_id: str) -> Path:
    """Where a generated clip lives: named as every job's output (``<task id>_<12 hex>``, so that
    recovery finds what a killed job left half-written), then the client's gen_audio_id."""
    return settings.MEDIA_ROOT / "voices" / "generated" / f"{task.pk}_{uuid.uuid4().hex[:12]}_{gen_audio_id}.wav"
