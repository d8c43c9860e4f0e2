from __future__ import annotations

from avatar_site.lib.pages import PageView


class GenerationPage(PageView):
    template_name = "generation/generate.html"
    nav = "generate"
