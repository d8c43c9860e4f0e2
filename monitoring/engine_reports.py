"""What each worker host reports it can run, for web hosts that cannot run the engines themselves."""

from __future__ import annotations

import logging
import socket

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from avatar_site.lib.errors import ServiceUnavailable
from monitoring.models import EngineReport

logger = logging.getLogger(__name__)

# The engines a queue's jobs run on the worker host (voice servers are reached over HTTP from anywhere).
WORKER_ENGINE_REGISTRIES = ("TALKING_HEAD_ENGINES", "ASR_ENGINES")


def report_engines(queue: str) -> EngineReport:
    """Check every worker-side engine here and record the outcome for ``queue`` on this host."""
    engines = {}
    for setting in WORKER_ENGINE_REGISTRIES:
        for path in getattr(settings, setting).values():
            try:
                import_string(path)().check_available()
            except ServiceUnavailable as exc:
                engines[path] = str(exc.detail)
            except ImportError as exc:
                engines[path] = str(exc)
            else:
                engines[path] = ""
    report, _ = EngineReport.objects.update_or_create(
        host=socket.gethostname(), queue=queue, defaults={"engines": engines, "reported_at": timezone.now()})
    return report


def usable_on(queue: str, engine_path: str) -> bool:
    """Whether a worker of ``queue`` reported the engine (its class path) usable at its last start."""
    return queue in usable_queues(engine_path)


def usable_queues(engine_path: str) -> list[str]:
    """The queues whose workers reported the engine (its class path) usable at their last start."""
    return sorted({report.queue for report in EngineReport.objects.all() if report.engines.get(engine_path) == ""})
