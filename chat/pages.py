from __future__ import annotations

from django.conf import settings

from avatar_site.lib.pages import PageView


class ChatPage(PageView):
    template_name = "chat/chat.html"
    nav = "chat"

    def page_context(self) -> dict:
        return {
            "max_recording_seconds": settings.MAX_RECORDING_SECONDS,
        }
