"""What an LLM service's failure means for the user: one clear message and the HTTP status to answer.

Shared by the Zhipu SDK adapter and the plain OpenAI-compatible one, whose services answer
errors in the same shapes (``{"error": {"code": …, "message": …}}``).
"""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from monitoring.errors import JobFailed


def server_message(body: str) -> str:
    """The service's own explanation from an error body, shortened; the raw text when not JSON."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        message = error.get("message") or error.get("msg") or ""
        code = error.get("code")
        return f"{message} (code {code})" if code not in (None, "") and message else str(message or error)[:300]
    return str(error)[:300]


def status_failure(service: str, status: int, body: str, key_setting: str) -> JobFailed:
    """A failure for an HTTP error answer of the LLM service."""
    detail = server_message(body)
    # The service's own words end the sentence when it gave any.
    suffix = _(": %(detail)s") % {"detail": detail} if detail else _(".")
    if status in (401, 403):
        return JobFailed(_("%(service)s refused the API key (HTTP %(status)s); check %(setting)s%(detail)s")
                         % {"service": service, "status": status, "setting": key_setting, "detail": suffix}, 503)
    if status == 429:
        return JobFailed(_("%(service)s is rate-limited or out of quota (HTTP 429); try again later%(detail)s")
                         % {"service": service, "detail": suffix}, 503)
    if status == 503:
        return JobFailed(_("%(service)s is overloaded (HTTP 503); try again later%(detail)s")
                         % {"service": service, "detail": suffix}, 503)
    if status == 404:
        return JobFailed(_("%(service)s does not know this model or path (HTTP 404)%(detail)s")
                         % {"service": service, "detail": suffix}, 502)
    if status == 400:
        return JobFailed(_("%(service)s rejected the request (HTTP 400)%(detail)s")
                         % {"service": service, "detail": suffix}, 502)
    return JobFailed(_("%(service)s failed (HTTP %(status)s)%(detail)s")
                     % {"service": service, "status": status, "detail": suffix}, 502)


def timeout_failure(service: str, seconds: float) -> JobFailed:
    return JobFailed(_("%(service)s did not answer within %(seconds)g s; try again later.")
                     % {"service": service, "seconds": seconds}, 504)


def connection_failure(service: str, url: str) -> JobFailed:
    return JobFailed(_("%(service)s cannot be reached at %(url)s; check the network and its base URL.")
                     % {"service": service, "url": url}, 503)


def empty_failure(service: str) -> JobFailed:
    return JobFailed(_("%(service)s answered without a reply text.") % {"service": service}, 502)
