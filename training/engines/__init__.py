from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import load_engine
from training.engines.base import TalkingHeadEngine


def get_talking_head_engine(name: str) -> TalkingHeadEngine:
    return load_engine(settings.TALKING_HEAD_ENGINES, name, _("talking-head"))
