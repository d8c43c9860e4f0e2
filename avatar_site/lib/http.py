"""Reading an HTTP answer from another service within a time limit for all of it."""

from __future__ import annotations

import os
import socket
import threading
import time

import httpx
import requests


class AnswerTooLarge(Exception):
    pass


def read_within(response: requests.Response, seconds: float, max_bytes: int) -> bytes:
    """The body of a ``stream=True`` response, all of it within ``seconds``.

    requests' timeout bounds each read, not the answer: a server trickling bytes would hold a job
    until JOB_TIMEOUT. At the deadline the socket is shut, which ends a blocked read; that is
    reported as requests.Timeout, even when the cut looked like the end of an answer without a
    Content-Length. Raises AnswerTooLarge past ``max_bytes``.
    """
    shut = threading.Event()
    deadline = threading.Timer(seconds, _shut, args=(response, shut))
    deadline.start()
    body = bytearray()
    try:
        for chunk in response.iter_content(65536):
            body += chunk
            if len(body) > max_bytes:
                raise AnswerTooLarge(f"more than {max_bytes // 2**20} MB")
    except requests.RequestException:
        if not shut.is_set():
            raise
    finally:
        deadline.cancel()
    if shut.is_set():
        raise requests.Timeout(f"the answer took longer than {seconds:g} s")
    return bytes(body)


def _shut(response: requests.Response, shut: threading.Event) -> None:
    """Shut the answer's socket (through a duplicate of its descriptor: http.client keeps only
    the file) so that a read blocked on it returns."""
    shut.set()
    try:
        with socket.socket(fileno=os.dup(response.raw.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):  # already closed
        pass


class DeadlineTransport(httpx.HTTPTransport):
    """An httpx transport (for SDKs built on httpx) whose answers must arrive whole within ``seconds``.

    httpx's timeouts, like requests', bound each read: here the body's stream checks the clock
    between chunks, so a trickling answer ends in httpx.ReadTimeout (a stalled one already does,
    by the read timeout). ``max_bytes`` bounds the answer's size the same way.
    """

    def __init__(self, seconds: float, max_bytes: int, **kwargs):
        super().__init__(**kwargs)
        self.seconds = seconds
        self.max_bytes = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.seconds
        response = super().handle_request(request)
        response.stream = _DeadlineStream(response.stream, deadline, self.seconds, self.max_bytes, request)
        return response


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(self, stream, deadline: float, seconds: float, max_bytes: int, request: httpx.Request):
        self.stream, self.deadline, self.seconds, self.max_bytes, self.request = (
            stream, deadline, seconds, max_bytes, request)

    def __iter__(self):
        received = 0
        for chunk in self.stream:
            received += len(chunk)
            if time.monotonic() > self.deadline:
                raise httpx.ReadTimeout(f"the answer took longer than {self.seconds:g} s", request=self.request)
            if received > self.max_bytes:
                raise httpx.DecodingError(f"the answer is over {self.max_bytes // 2**20} MB", request=self.request)
            yield chunk

    def close(self) -> None:
        self.stream.close()
