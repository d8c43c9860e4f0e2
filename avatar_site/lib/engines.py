"""Loading engines by name from a settings registry ({name: dotted class path})."""

from __future__ import annotations

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ApiError, ServiceUnavailable


class EngineUnavailable(ServiceUnavailable):
    """The engine exists in the registry but cannot run here (not installed, service down)."""


def load_engine(registry: dict[str, str], name: str, kind: str, queue: str | None = None):
    """An instance of the engine ``name``; 400 when unknown, 503 with the reason when unusable.

    With ``queue`` (where the job will run), an engine this host cannot run is still accepted when
    a worker of that queue reported it usable (a web host without the GPU hosts' checkouts).
    """
    if name not in registry:
        raise ApiError(_("Unknown %(kind)s engine %(name)r; choose one of %(choices)s.")
                       % {"kind": kind, "name": name, "choices": ', '.join(registry)})
    try:
        engine_class = import_string(registry[name])
    except ImportError as exc:
        raise EngineUnavailable(_("The %(kind)s engine %(name)s is not installed here (%(exc)s).")
                                % {"kind": kind, "name": name, "exc": exc}) from None
    engine = engine_class()
    try:
        engine.check_available()
    except EngineUnavailable:
        from monitoring.engine_reports import usable_on

        if not (queue and usable_on(queue, registry[name])):
            raise
    return engine


def availability(registry: dict[str, str], kind: str) -> list[dict]:
    """[{name, available, message: "available" or what to install, queues}] for each engine, for
    /api/engines and the pages' engine choices. ``queues``: those whose workers reported it usable
    (an engine this host cannot run is available when some worker host can)."""
    from monitoring.engine_reports import usable_queues

    report = []
    for name in registry:
        queues = usable_queues(registry[name])
        try:
            load_engine(registry, name, kind)
        except ServiceUnavailable as exc:
            available, message = bool(queues), "available" if queues else str(exc.detail)
        else:
            available, message = True, "available"
        report.append({"name": name, "available": available, "message": message, "queues": queues})
    return report
