"""Users' microphone recordings: decoded to 16 kHz mono WAV and checked for speech."""

from __future__ import annotations

import uuid

import soundfile
from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.audio import speech_level_dbfs
from avatar_site.lib.errors import Unprocessable
from avatar_site.lib.media import MediaError, to_wav
from avatar_site.lib.uploads import media_input
from chat.models import Recording

#: The loudest 0.3 s of speech lie far above this even from a quiet microphone; a muted one, an
#: empty room or a click does not reach it.
SILENCE_DBFS = -55.0


def save_recording(uploaded, owner) -> Recording:
    """Store an uploaded recording (webm, ogg, wav… whatever its name says) as WAV; 4xx when unusable."""
    source, info = media_input(uploaded, "audio", need_audio=True, folder="chat/uploads")
    target = settings.MEDIA_ROOT / "chat" / "recordings" / f"{uuid.uuid4().hex}.wav"
    try:
        if info.duration > settings.MAX_RECORDING_SECONDS:
            raise Unprocessable(
                _("audio: the recording lasts %(seconds).0f s, longer than %(limit).0f s.") % {"seconds": info.duration, "limit": settings.MAX_RECORDING_SECONDS}
            )
        try:
            to_wav(source, target)
        except MediaError as exc:
            raise Unprocessable(_("%(field)s: %(message)s") % {"field": "audio", "message": exc}) from None
        samples, rate = soundfile.read(str(target), dtype="float32")
        if samples.size == 0:
            raise Unprocessable(_("audio: the recording is empty."))
        if speech_level_dbfs(samples, rate) < SILENCE_DBFS:
            raise Unprocessable(_("audio: the recording is silent or too quiet to hear (check the microphone)."))
    except Exception:
        target.unlink(missing_ok=True)
        raise
    finally:
        source.unlink(missing_ok=True)
    return Recording.objects.create(
        file=target.relative_to(settings.MEDIA_ROOT).as_posix(),
        original_name=getattr(uploaded, "name", "")[:255],
        duration=len(samples) / rate,
        owner=owner if owner.is_authenticated else None,
    )
