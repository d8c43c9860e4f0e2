"""History rows for requests that failed before (or instead of) becoming a task."""

from __future__ import annotations

from django.core.handlers.wsgi import LimitedStream
from django.utils.translation import gettext as _
from rest_framework.response import Response

from avatar_site.lib.uploads import as_given
from monitoring.models import HistoryRecord

MAX_PARAMETER_LENGTH = 2000
#: Fields kept of a refused request, and the length of each name: the API's forms have about ten;
#: a body of thousands of invented fields would otherwise be stored whole in every history row.
MAX_PARAMETERS = 40
MAX_PARAMETER_NAME_LENGTH = 100


def request_parameters(request) -> dict:
    """The request's form fields as history parameters; uploads by file name only."""
    try:
        data = request.data
    except Exception:  # the body itself was refused (too large, malformed)
        return {}
    if not hasattr(data, "keys"):  # a JSON body that is not an object
        return {"body": _storable(str(data)[:MAX_PARAMETER_LENGTH])}
    parameters = {}
    keys = list(data)
    for key in keys[:MAX_PARAMETERS]:
        text = as_given(data.get(key))[:MAX_PARAMETER_LENGTH]
        parameters[_storable(str(key)[:MAX_PARAMETER_NAME_LENGTH])] = _storable(text)
    if len(keys) > MAX_PARAMETERS:
        parameters["…"] = _("%(count)s more field(s) not kept") % {"count": len(keys) - MAX_PARAMETERS}
    return parameters


def _storable(text: str) -> str:
    """The text with NUL and unpaired surrogates replaced: a failed request's row must still list."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def body_cut_short(request) -> bool:
    """Whether the client stopped sending before the length it announced: it aborted its upload
    (the pages' cancel button) or went away, and no one asked for what the half body holds."""
    stream = getattr(request, "_stream", None)
    if not isinstance(stream, LimitedStream) or stream._pos >= stream.limit:
        return False  # all of it came (the form parsers read to the end), or it is not Django's WSGI stream
    try:
        return stream.read(1) == b""  # at its end already, short of the announced length
    except OSError:  # a server that raises for a vanished client
        return True


class RecordsHistoryOnError:
    """APIView mixin: a request that ends in an error still leaves a failed history row."""

    history_type: str

    def handle_exception(self, exc) -> Response:
        response = super().handle_exception(exc)
        already_recorded = getattr(exc, "history_written", False)
        if already_recorded or body_cut_short(self.request._request):
            return response
        if self.request.method == "POST" and response.status_code not in (401, 403):
            user = self.request.user
            HistoryRecord.objects.create(
                type=self.history_type,
                parameters=request_parameters(self.request),
                result={"message": response.data.get("message", ""), "http_status": response.status_code},
                status=HistoryRecord.Status.FAILED,
                owner=user if user.is_authenticated else None,
            )
        return response
