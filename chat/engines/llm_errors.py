"""What an LLM service's failure means for the user: one clear message and the HTTP status to answer.

Shared by the Zhipu SDK adapter and the plain OpenAI-compatible one, whose services answer
errors in the same shapes (``{"error": {"code": …, "message": …}}``).
"""

from __future__ import annotations

import json

from monitoring.runner import JobFailed


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
    suffix = f": {detail}" if detail else "."
    if status in (401, 403):
        return JobFailed(f"{service} refused the API key (HTTP {status}); check {key_setting}{suffix}", 503)
    if status == 429:
        return JobFailed(f"{service} is rate-limited or out of quota (HTTP 429); try again later{suffix}", 503)
    if status == 503:
        return JobFailed(f"{service} is overloaded (HTTP 503); try again later{suffix}", 503)
    if status == 404:
        return JobFailed(f"{service} does not know this model or path (HTTP 404){suffix}", 502)
    if status == 400:
        return JobFailed(f"{service} rejected the request (HTTP 400){suffix}", 502)
    return JobFailed(f"{service} failed (HTTP {status}){suffix}", 502)


def timeout_failure(service: str, seconds: float) -> JobFailed:
    return JobFailed(f"{service} did not answer within {seconds:g} s; try again later.", 504)


def connection_failure(service: str, url: str) -> JobFailed:
    return JobFailed(f"{service} cannot be reached at {url}; check the network and its base URL.", 503)


def empty_failure(service: str) -> JobFailed:
    return JobFailed(f"{service} answered without a reply text.", 502)
