from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import load_engine
from training.engines.base import TalkingHeadEngine


def get_talking_head_engine(name: str, queue: str | None = None) -> TalkingHeadEngine:
    """``queue``: where the job will run, for a web host that cannot run the engine itself."""
    return load_engine(settings.TALKING_HEAD_ENGINES, name, _("talking-head"), queue)
