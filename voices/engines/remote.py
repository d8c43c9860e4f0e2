"""What the engines that call a voice-clone server share: reachability, requests, error mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import requests
from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import EngineUnavailable
from avatar_site.lib.http import AnswerTooLarge, read_within
from voices.engines.base import VoiceError
from voices.engines.builtin import BuiltinVoice

CONNECT_TIMEOUT_S = 5
MAX_ANSWER_BYTES = 200 * 2**20  # ~70 minutes of 24 kHz 16-bit speech
MIN_SPEECH_SECONDS = 0.1
SILENCE_PEAK = 2**-12  # of full scale (-72 dBFS): no speech ever stays under it


@dataclass
class Answer:
    content: bytes
    content_type: str


def base_url(url: str, setting: str, engine: str) -> str:
    if not url:
        raise EngineUnavailable(_("The %(engine)s voice engine is not configured: set %(setting)s to its server's URL.")
                                % {"engine": engine, "setting": setting})
    return url.rstrip("/")


def check_reachable(url: str, engine: str) -> None:
    """Any HTTP answer (even 404) proves the server is up; only a network failure makes it unavailable.

    A server that accepts the connection but does not answer in time is up and busy: GPT-SoVITS's
    api_v2 speaks inside its event loop, so it answers nothing else while another job's text runs.
    """
    try:
        requests.get(url + "/", timeout=CONNECT_TIMEOUT_S)
    except requests.ReadTimeout:
        return
    except requests.RequestException as exc:
        raise EngineUnavailable(_("The %(engine)s server at %(url)s cannot be reached (%(reason)s).")
                                % {"engine": engine, "url": url, "reason": _reason(exc)}) from None


def send(url: str, engine: str, timeout_s: float, methods: tuple[str, ...] = ("POST",), **kwargs) -> Answer:
    """Send the request and read the answer; with several ``methods``, the next is tried when the
    server answers 405 (upstream revisions differ in the method they registered)."""

    try:
        for method in methods:
            response = requests.request(method, url, timeout=(CONNECT_TIMEOUT_S, timeout_s), stream=True, **kwargs)
            if response.status_code != 405 or method == methods[-1]:
                break
            response.close()
        with response:
            if response.status_code >= 500:
                raise EngineUnavailable(_("The %(engine)s server failed (HTTP %(status_code)s): %(message)s")
                                        % {"engine": engine, "status_code": response.status_code, "message": _message(response)})
            if response.status_code != 200:
                raise VoiceError(
                    _("The %(engine)s server refused the request (HTTP %(status_code)s): %(message)s") % {"engine": engine, "status_code": response.status_code, "message": _message(response)}
                )
            try:
                body = read_within(response, timeout_s, MAX_ANSWER_BYTES)
            except AnswerTooLarge as exc:
                raise bad_answer(engine, str(exc)) from None
            return Answer(body, response.headers.get("Content-Type", ""))
    except requests.Timeout:
        raise EngineUnavailable(_("The %(engine)s server at %(url)s did not answer within %(timeout_s).0f s.")
                                % {"engine": engine, "url": url, "timeout_s": timeout_s}) from None
    except requests.RequestException as exc:
        raise EngineUnavailable(_("The %(engine)s server at %(url)s cannot be reached (%(reason)s).")
                                % {"engine": engine, "url": url, "reason": _reason(exc)}) from None


def bad_answer(engine: str, what: str, answer: Answer | None = None):
    """The server said 200 but sent no usable speech: its fault, not the request's (502)."""

    if answer is not None and answer.content_type.startswith(("text/", "application/json")):
        what += f": {answer.content[:200].decode(errors='replace')}"
    return VoiceError(_("The %(engine)s server answered with %(what)s.")
                      % {"engine": engine, "what": what}, http_status=502)


def check_speech(samples: np.ndarray, rate: int, engine: str) -> None:
    """Refuse an answer that is too short to be speech, or silent.

    GPT-SoVITS answers 200 with one second of zeros when its synthesis fails (TTS.run yields
    silence, then raises where api_v2 no longer looks); the reason is only in the server's log.
    """
    seconds = len(samples) / rate
    if seconds < MIN_SPEECH_SECONDS:
        raise bad_answer(engine, f"{seconds:.2f} s of audio")
    if np.abs(samples).max() < SILENCE_PEAK:
        raise bad_answer(engine, f"{seconds:.2f} s of silence (its synthesis failed; see the server's log)")


def text_language(text: str) -> str:
    """'zh' when the text holds Chinese characters (both servers read mixed zh/en as 'zh'), else 'en'."""
    return "zh" if re.search(r"[\u3400-\u9fff]", text or "") else "en"


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("detail") or body)
        if body.get("Exception"):  # GPT-SoVITS api_v2: {"message": "tts failed", "Exception": the reason}
            message += f": {body['Exception']}"
        return message[:300]
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

    def check_configured(self) -> None:
        self.url  # noqa: B018 (raises EngineUnavailable while its URL setting is empty)
