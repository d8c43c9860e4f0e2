from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import availability, load_engine
from voices.engines.base import VoiceEngine


def get_voice_engine(name: str | None = None) -> VoiceEngine:
    return load_engine(settings.VOICE_ENGINES, name or settings.VOICE_ENGINE, _("voice"))


def voice_engine_choices() -> list[dict]:
    """The pages' voice engines; one not configured is listed disabled with what to set (no
    server is contacted: a page view would wait on one that is down)."""
    return availability(settings.VOICE_ENGINES, _("voice"), configured_only=True)
