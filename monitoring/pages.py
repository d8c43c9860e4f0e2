from __future__ import annotations

from django.conf import settings

from avatar_site.lib.pages import PageView
from monitoring.models import HistoryRecord, HistoryType


class StatusPage(PageView):
    template_name = "monitoring/status.html"
    nav = "status"

    def page_context(self) -> dict:
        return {
            "poll_seconds": settings.STATUS_POLL_SECONDS,
            "chart_minutes": settings.STATUS_CHART_MINUTES,
        }


class HistoryPage(PageView):
    template_name = "monitoring/history.html"
    nav = "history"

    def page_context(self) -> dict:
        return {
            "history_types": HistoryType.values,
            "history_statuses": HistoryRecord.Status.values,
        }
