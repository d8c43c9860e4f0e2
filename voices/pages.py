from __future__ import annotations

from avatar_site.lib.pages import PageView


class VoicesPage(PageView):
    template_name = "voices/voices.html"
    nav = "voices"
