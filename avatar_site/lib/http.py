"""Reading an HTTP answer from another service within a time limit for all of it."""

from __future__ import annotations

import os
import socket
import threading
import time

import httpx
import requests
from django.utils.translation import gettext as _


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
                raise AnswerTooLarge(_("more than %(megabytes)s MB") % {"megabytes": max_bytes // 2**20})
    except requests.RequestException:
        if not shut.is_set():
            raise
    finally:
        deadline.cancel()
    if shut.is_set():
        raise requests.Timeout(_("the answer took longer than %(seconds)g s") % {"seconds": seconds})
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


def answer_deadline(seconds: float, max_bytes: int):
    """An httpx response hook (for SDKs built on httpx): the body must arrive whole within
    ``seconds`` of its headers, and be at most ``max_bytes``.

    httpx's timeouts, like requests', bound each read: the hook wraps the body's stream so that
    it checks the clock between chunks, and a trickling answer ends in httpx.ReadTimeout (a
    stalled one already does, by the read timeout). A hook, not a transport: a client given its
    own transport no longer honours HTTPS_PROXY and the like.
    """

    def hook(response: httpx.Response) -> None:
        response.stream = _DeadlineStream(response.stream, time.monotonic() + seconds, seconds, max_bytes,
                                          response.request)

    return hook


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(self, stream, deadline: float, seconds: float, max_bytes: int, request: httpx.Request):
        self.stream, self.deadline, self.seconds, self.max_bytes, self.request = (
            stream, deadline, seconds, max_bytes, request)

    def __iter__(self):
        received = 0
        for chunk in self.stream:
            received += len(chunk)
            if time.monotonic() > self.deadline:
                raise httpx.ReadTimeout(_("the answer took longer than %(seconds)g s")
                                        % {"seconds": self.seconds}, request=self.request)
            if received > self.max_bytes:
                raise httpx.DecodingError(_("the answer is over %(megabytes)s MB")
                                          % {"megabytes": self.max_bytes // 2**20}, request=self.request)
            yield chunk

    def close(self) -> None:
        self.stream.close()
