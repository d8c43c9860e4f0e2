from __future__ import annotations

from django.conf import settings

from avatar_site.lib.pages import PageView
from voices.engines import voice_engine_choices


class VoicesPage(PageView):
    template_name = "voices/voices.html"
    nav = "voices"

    def page_context(self) -> dict:
        return {**super().page_context(), "voice_engines": voice_engine_choices(),
                "default_voice_engine": settings.VOICE_ENGINE}
