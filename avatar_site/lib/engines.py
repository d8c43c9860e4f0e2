"""Loading engines by name from a settings registry ({name: dotted class path})."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ApiError, ServiceUnavailable


class EngineUnavailable(ServiceUnavailable):
    """The engine exists in the registry but cannot run here (not installed, service down)."""


def load_engine(registry: dict[str, str], name: str, kind: str,
                worker_report: Callable[[str], str | None] | None = None, *, configured_only: bool = False):
    """An instance of the engine ``name``; 400 when unknown, 503 with the reason when unusable.

    ``configured_only``: check only what an engine can tell without contacting its server (its
    ``check_configured``, where it has one): for pages, which must not wait on a server that is down.

    ``worker_report(class path)``, for a job that will run on another host: what that queue's
    worker said of the engine ("" usable, else why not; None: it said nothing). An engine this
    host cannot run is accepted when the worker can (a web host has no GPU engine checkouts).
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
    check = getattr(engine, "check_configured", engine.check_available) if configured_only else engine.check_available
    try:
        check()
    except EngineUnavailable as exc:
        reported = worker_report(registry[name]) if worker_report else None
        if reported == "":
            return engine
        if reported and reported != str(exc.detail):
            # The job runs there: its reason is the one that counts (this host may have no checkout by design).
            raise EngineUnavailable(_("The worker of the chosen GPU cannot run %(name)s: %(reason)s") % {
                "name": name, "reason": reported}) from None
        raise
    return engine


def availability(registry: dict[str, str], kind: str,
                 usable_queues: Callable[[str], list[str]] | None = None, *, configured_only: bool = False) -> list[dict]:
    """[{name, available, message: "available" (in the request's language) or what to install, on_this_host, queues}] for each
    engine, for /api/engines and the pages' engine choices. ``usable_queues(class path)``: the GPU
    queues whose workers reported the engine usable; an engine this host cannot run is available
    when some can (then only on those)."""
    report = []
    for name in registry:
        queues = usable_queues(registry[name]) if usable_queues else []
        try:
            load_engine(registry, name, kind, configured_only=configured_only)
        except ServiceUnavailable as exc:
            here, message = False, _("available") if queues else str(exc.detail)
        else:
            here, message = True, _("available")
        report.append({"name": name, "available": here or bool(queues), "message": message,
                       "on_this_host": here, "queues": queues})
    return report
