"""Serving media files with HTTP Range support, so <video> and <audio> elements can seek."""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from avatar_site.lib.errors import NotFound, error_response

# At most 18 digits: no file is that large, and int() refuses numbers of over 4 300 digits. A
# header that does not match is ignored (the whole file is sent), as RFC 9110 allows.
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
CHUNK = 64 * 1024


def _read_range(handle, start: int, length: int):
    with handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def served_type(path: Path) -> str:
    """Audio and video play in the page; anything else is a download (a page or an SVG opened
    inline would run its scripts on this site's origin)."""
    guessed = mimetypes.guess_type(path.name)[0] or ""
    return guessed if guessed.startswith(("audio/", "video/")) else "application/octet-stream"


def _protected(response: HttpResponse, path: Path) -> HttpResponse:
    if response["Content-Type"] == "application/octet-stream":
        response["Content-Disposition"] = content_disposition_header(True, path.name)
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def ranged_file_response(range_header: str | None, path: Path, if_range: str | None = None) -> HttpResponse:
    """The file, or the one byte range asked for (206).

    The file is opened before anything is answered, so one deleted meanwhile is a 404, not a
    response that breaks off after its headers. Anything but a single satisfiable range (several
    ranges, a backwards one, an ``If-Range``: no validators are sent to compare it with) gets the
    whole file, as RFC 9110 allows; a range wholly past the end is 416.
    """
    content_type = served_type(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise NotFound(_("No such file.")) from None
    size = os.fstat(handle.fileno()).st_size
    match = _RANGE.match((range_header or "").strip())
    first, last = match.groups() if match else ("", "")
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    elif last:  # "bytes=-N": the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if if_range or not (first or last) or (first and last and int(last) < int(first)):
        response = FileResponse(handle, content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return _protected(response, path)
    if start >= size or start > end:
        handle.close()
        response = error_response(_("The requested range lies outside the file."), 416)
        response["Content-Range"] = f"bytes */{size}"
        return response

    length = end - start + 1
    response = StreamingHttpResponse(_read_range(handle, start, length), status=206, content_type=content_type)
    response["Content-Length"] = str(length)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return _protected(response, path)
