"""What the engines that call a voice-clone server share: reachability, requests, error mapping."""

from __future__ import annotations

import re

import requests
from django.conf import settings

from avatar_site.lib.engines import EngineUnavailable
from voices.engines.builtin import BuiltinVoice

CONNECT_TIMEOUT_S = 5


def base_url(url: str, setting: str, engine: str) -> str:
    if not url:
        raise EngineUnavailable(f"The {engine} voice engine is not configured: set {setting} to its server's URL.")
    return url.rstrip("/")


def check_reachable(url: str, engine: str) -> None:
    """Any HTTP answer (even 404) proves the server is up; only a network failure makes it unavailable."""
    try:
        requests.get(url + "/", timeout=CONNECT_TIMEOUT_S)
    except requests.RequestException as exc:
        raise EngineUnavailable(f"The {engine} server at {url} cannot be reached ({_reason(exc)}).") from None


def post(url: str, engine: str, timeout_s: float, **kwargs) -> requests.Response:
    from voices.cloning import VoiceError

    try:
        response = requests.post(url, timeout=(CONNECT_TIMEOUT_S, timeout_s), **kwargs)
    except requests.Timeout:
        raise EngineUnavailable(f"The {engine} server at {url} did not answer within {timeout_s:.0f} s.") from None
    except requests.RequestException as exc:
        raise EngineUnavailable(f"The {engine} server at {url} cannot be reached ({_reason(exc)}).") from None
    if response.status_code >= 500:
        raise EngineUnavailable(f"The {engine} server failed (HTTP {response.status_code}): {_message(response)}")
    if response.status_code != 200:
        raise VoiceError(f"The {engine} server refused the request (HTTP {response.status_code}): {_message(response)}")
    return response


def text_language(text: str) -> str:
    """'zh' when the text holds Chinese characters (both servers read mixed zh/en as 'zh'), else 'en'."""
    return "zh" if re.search(r"[\u3400-\u9fff]", text or "") else "en"


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("detail") or body)[:300]
    return str(body)[:300]


def _reason(exc: Exception) -> str:
    return type(exc).__name__ + (f": {exc.args[0]}" if exc.args else "")


class RemoteVoice(BuiltinVoice):
    """A voice service reached over HTTP at the URL in settings.<url_setting>.

    Extraction is the builtin one (embedding, statistics, the 3–10 s best segment), which the
    services' reference clips come from; synthesis is the service's.
    """

    url_setting = ""

    @property
    def url(self) -> str:
        return base_url(getattr(settings, self.url_setting), self.url_setting, self.name)

    def check_available(self) -> None:
        check_reachable(self.url, self.name)
