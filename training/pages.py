from __future__ import annotations

from avatar_site.lib.pages import PageView


class TrainingPage(PageView):
    template_name = "training/train.html"
    nav = "training"
