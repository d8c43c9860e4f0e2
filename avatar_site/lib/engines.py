"""Loading engines by name from a settings registry ({name: dotted class path})."""

from __future__ import annotations

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ApiError, ServiceUnavailable


class EngineUnavailable(ServiceUnavailable):
    """The engine exists in the registry but cannot run here (not installed, service down)."""


def load_engine(registry: dict[str, str], name: str, kind: str):
    """An instance of the engine ``name``; 400 when unknown, 503 with the reason when unusable."""
    if name not in registry:
        raise ApiError(_("Unknown %(kind)s engine %(name)r; choose one of %(choices)s.")
                       % {"kind": kind, "name": name, "choices": ', '.join(registry)})
    try:
        engine_class = import_string(registry[name])
    except ImportError as exc:
        raise EngineUnavailable(_("The %(kind)s engine %(name)s is not installed here (%(exc)s).")
                                % {"kind": kind, "name": name, "exc": exc}) from None
    engine = engine_class()
    engine.check_available()
    return engine


def availability(registry: dict[str, str], kind: str) -> list[dict]:
    """[{name, available, message: "available" or what to install}] for each engine, for
    /api/engines and the pages' engine choices."""
    report = []
    for name in registry:
        try:
            load_engine(registry, name, kind)
        except ServiceUnavailable as exc:
            report.append({"name": name, "available": False, "message": str(exc.detail)})
        else:
            report.append({"name": name, "available": True, "message": "available"})
    return report
