"""Reading an HTTP answer from another service within a time limit for all of it."""

from __future__ import annotations

import os
import socket
import threading

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
