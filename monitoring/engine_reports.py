"""What each worker host reports it can run, for web hosts that cannot run the engines themselves."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from avatar_site.lib.errors import ServiceUnavailable
from monitoring.models import EngineReport
from monitoring.recovery import when_database_answers

logger = logging.getLogger(__name__)

# The engines a GPU queue's jobs run on its worker host (voice servers are reached over HTTP from anywhere).
WORKER_ENGINE_REGISTRIES = ("TALKING_HEAD_ENGINES", "ASR_ENGINES")


def report_engines(queue: str) -> EngineReport:
    """Check every worker-side engine here and record the outcome for ``queue`` on this host:
    "" for a usable engine, else why not in each of the site's languages (web hosts answer in
    their client's)."""
    engines = {path: _why_unusable(path) for setting in WORKER_ENGINE_REGISTRIES
               for path in getattr(settings, setting).values()}
    report, _ = EngineReport.objects.update_or_create(
        host=socket.gethostname(), queue=queue, defaults={"engines": engines, "reported_at": timezone.now()})
    return report


def _why_unusable(engine_path: str) -> str | dict[str, str]:
    reasons = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            try:
                import_string(engine_path)().check_available()
            except ServiceUnavailable as exc:
                reasons[language] = str(exc.detail)
            except ImportError as exc:
                reasons[language] = str(exc)
            else:
                return ""
    return reasons


def report_on_worker_spawn(sender, proc_name, **kwargs) -> None:
    """django-q's post_spawn: each worker of a queue reports as it starts (a restart refreshes it)."""
    from django_q.conf import Conf

    when_database_answers(partial(report_engines, Conf.CLUSTER_NAME), "report this worker's engines")


def _latest_by_queue() -> dict[str, EngineReport]:
    """The newest report of each GPU queue: one worker serves a queue, so an older report is a host
    that served it before (replaced, renamed); queues the site no longer has do not count."""
    latest: dict[str, EngineReport] = {}
    for report in EngineReport.objects.filter(queue__in=settings.GPU_QUEUES).order_by("reported_at"):
        latest[report.queue] = report
    return latest


def worker_report(queue: str) -> Callable[[str], str | None]:
    """For load_engine: what the worker of ``queue`` said of an engine ("" usable, else why not in
    the current language; None: it said nothing). Read only when asked: when this host can run
    the engine itself, no report is looked at."""

    def said(engine_path: str) -> str | None:
        report = _latest_by_queue().get(queue)
        found = report.engines.get(engine_path) if report else None
        if not isinstance(found, dict):  # "" or None
            return found
        language = translation.get_language() or settings.LANGUAGE_CODE
        return found.get(language) or next(iter(found.values()), "?")

    return said


def usable_queues(engine_path: str) -> list[str]:
    """The GPU queues whose worker last reported the engine (its class path) usable."""
    return sorted(queue for queue, report in _latest_by_queue().items() if report.engines.get(engine_path) == "")
