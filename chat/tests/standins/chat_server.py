"""A small OpenAI-shaped chat server on 127.0.0.1 for tests: it records what clients send and
answers what the test scripted (a reply, an HTTP error, or silence past the client's time-out).

Both the real ``zhipuai`` SDK and the OpenAI-compatible engine talk to it over real HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Exchange:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Script:
    reply: str = "你好，我是数字人助手。"
    status: int = 200
    error_body: dict | None = None
    delay: float = 0.0
    trickle: float = 0.0  # seconds between the answer's bytes (each read is quick, the whole is slow)
    raw: bytes | None = None  # sent as the body instead of a completion (a broken answer)


@dataclass
class ChatServer:
    script: Script = field(default_factory=Script)
    received: list[Exchange] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/paas/v4"

    def start(self) -> ChatServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def completion(self, model: str) -> dict:
        """A complete answer: the SDK reads every field of it without checking."""
        return {
            "id": "chatcmpl-test-1",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "request_id": "req-test-1",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": self.script.reply}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30},
        }

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                server.received.append(Exchange(self.path, dict(self.headers), body))
                script = server.script
                time.sleep(script.delay)
                if script.status == 200:
                    answer = server.completion(body.get("model", ""))
                else:
                    answer = script.error_body or {"error": {"code": str(script.status), "message": "scripted"}}
                payload = json.dumps(answer, ensure_ascii=False).encode() if script.raw is None else script.raw
                try:
                    self.send_response(script.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if not script.trickle:
                        self.wfile.write(payload)
                    for index in range(len(payload) if script.trickle else 0):
                        self.wfile.write(payload[index:index + 1])
                        self.wfile.flush()
                        time.sleep(script.trickle)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the time-out tests)

            def log_message(self, format, *args):
                pass

        return Handler
