from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import load_engine
from voices.engines.base import VoiceEngine


def get_voice_engine(name: str | None = None) -> VoiceEngine:
    return load_engine(settings.VOICE_ENGINES, name or settings.VOICE_ENGINE, _("voice"))
