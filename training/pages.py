from __future__ import annotations

from avatar_site.lib.pages import PageView
from training.engines import talking_head_availability


class TalkingHeadChoices:
    """For a page whose form picks a talking-head engine: engines neither this host nor any GPU
    queue's worker can run stay listed, disabled, with what to install as their tooltip."""

    def page_context(self) -> dict:
        return {**super().page_context(), "talking_head_engines": talking_head_availability()}


class TrainingPage(TalkingHeadChoices, PageView):
    template_name = "training/train.html"
    nav = "training"
