from __future__ import annotations

from django.conf import settings

from avatar_site.lib.pages import PageView
from monitoring.models import HistoryRecord, HistoryType


class StatusPage(PageView):
    template_name = "monitoring/status.html"
    nav = "status"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["poll_seconds"] = settings.STATUS_POLL_SECONDS
        context["chart_minutes"] = settings.STATUS_CHART_MINUTES
        return context


class HistoryPage(PageView):
    template_name = "monitoring/history.html"
    nav = "history"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["history_types"] = HistoryType.values
        context["history_statuses"] = HistoryRecord.Status.values
        return context
