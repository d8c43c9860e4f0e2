"""The base of the end-user pages: signed-in only, with the choices every form offers.

The pages are thin: they render a template and the browser talks to the JSON API, so the API
stays the one place where requests are checked.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class PageView(LoginRequiredMixin, TemplateView):
    """A page that needs the site's engines and GPU queues in its forms."""

    nav = ""  # which navigation entry to mark as current

    def page_context(self) -> dict:
        """What this page adds to the shared context (read at request time: settings may change)."""
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            nav=self.nav,
            gpu_queues=settings.GPU_QUEUES,
            default_talking_head_engine=settings.DEFAULT_TALKING_HEAD_ENGINE,
            # The forms check files and texts before sending them, against the server's own limits.
            max_upload_bytes=settings.MAX_UPLOAD_BYTES,
            max_text_chars=settings.MAX_TEXT_CHARS,
            time_zone=settings.TIME_ZONE,  # the API's timestamps' (TIME_ZONE), named in the tables' headers
        )
        context.update(self.page_context())
        return context
