"""Stand-ins for the GPT-SoVITS api_v2 and CosyVoice FastAPI servers, for contract tests.

They check requests the way the real servers do (required fields, languages, the 3–10 s reference
on disk, multipart form fields) and answer in the same shapes: a WAV body or a 400 JSON message
for GPT-SoVITS (``{"message": "tts failed", "Exception": …}`` when synthesis fails, as api_v2
answers), raw 16-bit PCM or a 422 JSON detail for CosyVoice. The audio is a tone whose length
follows the text, so the client's handling of real bytes is exercised.
"""

from __future__ import annotations

import io
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import soundfile

GPT_SOVITS_LANGUAGES = {"auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"}


def tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 180 * t) * 32767).astype(np.int16)


class _Handler(BaseHTTPRequestHandler):
    requests_seen: list  # set per server class

    def log_message(self, *args):  # keep test output clean
        pass

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, content: dict) -> None:
        self._answer(status, json.dumps(content).encode(), "application/json")

    def do_GET(self):
        self._json(404, {"detail": "Not Found"})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))


class GPTSoVITSHandler(_Handler):
    def do_POST(self):
        if self.path != "/tts":
            return self._json(404, {"detail": "Not Found"})
        request = json.loads(self._body())
        self.requests_seen.append(request)
        problem = self._check(request)
        if problem:
            return self._json(400, {"message": problem})
        failure = self._synthesis_failure(request)
        if failure:
            return self._json(400, {"message": "tts failed", "Exception": failure})
        buffer = io.BytesIO()
        soundfile.write(buffer, tone(0.08 * len(request["text"]), 32000), 32000, format="WAV", subtype="PCM_16")
        self._answer(200, buffer.getvalue(), "audio/wav")

    @staticmethod
    def _check(request: dict) -> str:
        # The same checks, in the same order, as api_v2.check_params and TTS.set_ref_audio.
        if not request.get("ref_audio_path"):
            return "ref_audio_path is required"
        if not request.get("text"):
            return "text is required"
        if not request.get("text_lang"):
            return "text_lang is required"
        if request["text_lang"].lower() not in GPT_SOVITS_LANGUAGES:
            return f"text_lang: {request['text_lang']} is not supported in version v2"
        if not request.get("prompt_lang"):
            return "prompt_lang is required"
        if request["prompt_lang"].lower() not in GPT_SOVITS_LANGUAGES:
            return f"prompt_lang: {request['prompt_lang']} is not supported in version v2"
        if request.get("media_type", "wav") not in {"wav", "raw", "ogg", "aac"}:
            return f"media_type: {request['media_type']} is not supported"
        if request.get("streaming_mode") not in (False, None):
            return "the stand-in only answers non-streaming requests"
        return ""

    @staticmethod
    def _synthesis_failure(request: dict) -> str:
        """What TTS.run raises (api_v2 answers it as "tts failed" with the exception's text)."""
        try:
            info = soundfile.info(request["ref_audio_path"])
        except Exception as exc:  # the real server fails on a path it cannot read
            return str(exc)
        if not 3 <= info.frames / info.samplerate <= 10:
            return "参考音频在3~10秒范围外，请更换！"
        return ""


class CosyVoiceHandler(_Handler):
    """Upstream's runtime/python/fastapi/server.py: its endpoints are GET routes reading a form
    (later revisions add POST; ``methods`` says which this one registers)."""

    rate = 22050
    methods = ("GET",)
    # Each endpoint's form fields, all required (``Form()`` / ``File()`` without defaults).
    ENDPOINTS = {
        "/inference_zero_shot": ("tts_text", "prompt_text", "prompt_wav"),
        "/inference_cross_lingual": ("tts_text", "prompt_wav"),
    }

    def do_GET(self):
        self._inference("GET")

    def do_POST(self):
        self._inference("POST")

    def _inference(self, method: str):
        if self.path not in self.ENDPOINTS:
            return self._json(404, {"detail": "Not Found"})
        if method not in self.methods:
            self._body()
            self.requests_seen.append({"endpoint": self.path, "method": method, "refused": 405})
            return self._json(405, {"detail": "Method Not Allowed"})
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return self._json(422, {"detail": [{"type": "missing", "loc": ["body", "tts_text"]}]})
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + self._body()
        )
        # Form fields as text (FastAPI reads them as UTF-8), the file as bytes.
        fields = {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()
        }
        fields.update({name: value.decode("utf-8") for name, value in fields.items() if name != "prompt_wav"})
        self.requests_seen.append({"endpoint": self.path, "method": method, **fields})
        # FastAPI counts an empty form field as missing: a required one then fails with 422.
        missing = [name for name in self.ENDPOINTS[self.path] if fields.get(name) in (None, "", b"")]
        if missing:
            return self._json(422, {"detail": [{"type": "missing", "loc": ["body", name]} for name in missing]})
        samples, rate = soundfile.read(io.BytesIO(fields["prompt_wav"]))  # the real server's load_wav fails on bad audio
        assert len(samples) / rate <= 30, "prompt over 30 s"
        self._answer(200, tone(0.08 * len(fields["tts_text"]), self.rate).tobytes(), "application/octet-stream")


class StandInServer:
    """``with StandInServer(GPTSoVITSHandler) as server: server.url, server.requests``."""

    def __init__(self, handler: type[_Handler]):
        self.requests: list = []
        handler_class = type(handler.__name__, (handler,), {"requests_seen": self.requests})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StandInServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
