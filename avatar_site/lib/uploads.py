"""Uploads: a size limit enforced while the body streams in, storing, and checking media by content."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.utils.translation import gettext as _

from avatar_site.lib.errors import NotFound, PayloadTooLarge, ServiceUnavailable, Unprocessable, UnsupportedMedia
from avatar_site.lib.media import MediaError, MediaInfo, check_limits, probe
from avatar_site.lib.paths import existing_file
from avatar_site.lib.storage import check_media_space


def _too_large() -> PayloadTooLarge:
    limit_mb = settings.MAX_UPLOAD_BYTES // (1024 * 1024)
    return PayloadTooLarge(_("Upload larger than the limit of %(limit_mb)s MB.") % {"limit_mb": limit_mb})


class SizeLimitedUploadHandler(FileUploadHandler):
    """Runs first among the upload handlers and refuses bodies over MAX_UPLOAD_BYTES."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > settings.MAX_UPLOAD_BYTES:
            raise _too_large()
        if not content_length or content_length > settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
            check_media_space(content_length or 0)  # it goes to a temporary file on the media disk
            upload_temp_dir()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        # Chunked bodies carry no Content-Length: count what actually arrives.
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_BYTES:
            raise _too_large()
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_temp_dir() -> Path:
    """Where large uploads stream to: on the media disk, made when first needed."""
    folder = settings.MEDIA_ROOT / "tmp" / "uploads"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServiceUnavailable(_("Uploads cannot be stored: %(error)s.") % {"error": exc.strerror or exc}) from None
    return folder


class MediaDiskUploadedFile(TemporaryUploadedFile):
    """Django's temporary upload, in ``upload_temp_dir()`` instead of FILE_UPLOAD_TEMP_DIR."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        suffix = Path(name or "").suffix[:16]
        file = tempfile.NamedTemporaryFile(suffix=".upload" + suffix, dir=upload_temp_dir())
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class MediaDiskUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs):
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = MediaDiskUploadedFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)


def save_upload(uploaded: UploadedFile, folder: str = "uploads") -> Path:
    """Store an upload under MEDIA_ROOT/<folder>/ with a fresh name; only its suffix is kept."""
    suffix = Path(uploaded.name or "").suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    check_media_space()
    target = settings.MEDIA_ROOT / folder / f"{uuid.uuid4().hex}{suffix}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(uploaded, "temporary_file_path"):  # already on the media disk: moved, not copied
            shutil.move(uploaded.temporary_file_path(), target)
            target.chmod(settings.FILE_UPLOAD_PERMISSIONS)
            return target
        with open(target, "wb") as handle:
            for chunk in uploaded.chunks():
                handle.write(chunk)
    except OSError as exc:
        if target.parent.is_dir():
            target.unlink(missing_ok=True)  # half written when the disk filled up
        raise ServiceUnavailable(_("The upload cannot be stored: %(error)s.")
                                 % {"error": exc.strerror or exc}) from None
    return target


UPLOAD_PREFIX = "(upload) "


def as_given(value: str | UploadedFile) -> str:
    """A media field as the client gave it, for history: the path, or the uploaded file's name."""
    return f"{UPLOAD_PREFIX}{value.name}" if isinstance(value, UploadedFile) else str(value)


def discard_upload(path: Path, given: str | UploadedFile) -> None:
    """Delete the file ``media_input`` saved for an upload (never a client's existing file):
    for a request refused before its task existed, when nothing else will ever read it."""
    if is_upload(given):
        delete_upload(path)


def is_upload(given: str | UploadedFile) -> bool:
    """Whether a client's media field was an upload (``media_input`` saved it) or a path it named."""
    return isinstance(given, UploadedFile)


def delete_upload(path: str | Path) -> None:
    """Delete a file ``media_input`` saved from an upload, once nothing made from it needs it.
    Callers know it was one (``is_upload`` at request time): a path a client named may lie in
    the uploads folder too (another request's upload) and is not theirs to delete."""
    resolved = Path(path).resolve()
    if resolved.is_relative_to((settings.MEDIA_ROOT / "uploads").resolve()):
        resolved.unlink(missing_ok=True)


def media_input(
    value: str | UploadedFile,
    field: str,
    *,
    need_video: bool = False,
    need_audio: bool = False,
    folder: str = "uploads",
    may_use: Callable[[Path], bool] = lambda path: True,
) -> tuple[Path, MediaInfo]:
    """A client's media: a path inside the input roots or an upload, checked by its content.

    A path the client may not use (``may_use``: another user's file) is answered exactly like a
    missing one, so the answer tells nothing about other users' files. Uploads that turn out not
    to be usable media are deleted before the error is raised.
    """
    uploaded = isinstance(value, UploadedFile)
    path = save_upload(value, folder) if uploaded else existing_file(value, field)
    if not uploaded and not may_use(path):
        raise NotFound(_("%(field)s: no such file.") % {"field": field})
    try:
        try:
            info = probe(path)
        except MediaError as exc:
            # ffprobe names the file as it lies on the server; the client knows it by its own name.
            message = str(exc).replace(path.name, value.name) if uploaded else str(exc)
            raise UnsupportedMedia(_("%(field)s: %(message)s") % {"field": field, "message": message}) from None
        if need_video and not info.has_video:
            raise UnsupportedMedia(_("%(field)s: the file has no video stream.") % {"field": field})
        if need_audio and not info.has_audio:
            raise Unprocessable(_("%(field)s: the file has no audio track.") % {"field": field})
        try:
            check_limits(info)
        except MediaError as exc:
            raise Unprocessable(_("%(field)s: %(message)s") % {"field": field, "message": exc}) from None
    except Exception:
        if uploaded:
            path.unlink(missing_ok=True)
        raise
    return path, info

