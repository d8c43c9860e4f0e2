from __future__ import annotations

from avatar_site.lib.pages import PageView
from training.pages import TalkingHeadChoices


class GenerationPage(TalkingHeadChoices, PageView):
    template_name = "generation/generate.html"
    nav = "generate"
