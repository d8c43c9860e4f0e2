"""Choosing how an answer is rendered."""

from __future__ import annotations

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class FirstRendererWhenNoneAccepted(DefaultContentNegotiation):
    """A client that accepts none of a view's types (``Accept: text/html``, ``video/*``) gets
    the view's first one (JSON for the API) instead of a 406: errors stay readable."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            if format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE):
                raise  # a format the client named explicitly (?format=yaml on a JSON-only view)
            return renderers[0], renderers[0].media_type
