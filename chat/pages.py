from __future__ import annotations

from django.conf import settings

from avatar_site.lib.pages import PageView
from chat.engines import language_model_choices, spoken_language
from training.pages import TalkingHeadChoices


class ChatPage(TalkingHeadChoices, PageView):
    template_name = "chat/chat.html"
    nav = "chat"

    def page_context(self) -> dict:
        return {**super().page_context(), "max_recording_seconds": settings.MAX_RECORDING_SECONDS,
                "llm_engines": language_model_choices(), "spoken_language": spoken_language()}
