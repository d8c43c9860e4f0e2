from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from avatar_site.lib.engines import availability, load_engine
from monitoring.engine_reports import usable_queues, worker_report
from training.engines.base import TalkingHeadEngine


def get_talking_head_engine(name: str, queue: str | None = None) -> TalkingHeadEngine:
    """``queue``: where the job will run, for a web host that cannot run the engine itself."""
    return load_engine(settings.TALKING_HEAD_ENGINES, name, _("talking-head"), queue and worker_report(queue))


def talking_head_availability() -> list[dict]:
    """The engines for /api/engines and the pages' choices: usable here, or on some GPU queue's worker."""
    return availability(settings.TALKING_HEAD_ENGINES, _("talking-head"), usable_queues)


def talking_head_engine_as_configured(name: str) -> TalkingHeadEngine | None:
    """The engine ``name`` without asking whether it can run here: what its avatars' files are
    (archive files, training data outside MEDIA_ROOT), which any host may need to know."""
    path = settings.TALKING_HEAD_ENGINES.get(name)
    return import_string(path)() if path else None
