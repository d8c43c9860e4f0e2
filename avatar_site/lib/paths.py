"""Confinement of client-given paths to the configured roots."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avatar_site.lib.errors import ApiError, NotFound

MAX_PATH_LENGTH = 1024
MAX_NAME_BYTES = 255  # NAME_MAX: longer names make the file system raise instead of answer


class PathNotAllowed(ApiError):
    default_detail = gettext_lazy("Path not allowed.")


def confine(raw: str, roots: list[Path] | None = None, field: str = "path") -> Path:
    """Resolve a client path and make sure it lies inside one of ``roots``.

    Windows separators are accepted (the spec's clients may send them); relative paths are
    taken relative to the first root. Symlinks are resolved before the check, so a link that
    points out of the roots is refused like any other escape.
    """
    roots = roots if roots is not None else settings.INPUT_ROOTS
    if not raw or not raw.strip():
        raise PathNotAllowed(_("%(field)s: empty path.") % {"field": field})
    if "\x00" in raw:
        raise PathNotAllowed(_("%(field)s: NUL byte in path.") % {"field": field})
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise PathNotAllowed(_("%(field)s: the path is not valid Unicode.") % {"field": field}) from None
    if len(raw) > MAX_PATH_LENGTH:
        raise PathNotAllowed(_("%(field)s: path longer than %(max_path_length)s characters.")
                             % {"field": field, "max_path_length": MAX_PATH_LENGTH})
    text = raw.strip().replace("\\", "/")
    candidate = Path(text)
    if ".." in candidate.parts:
        raise PathNotAllowed(_("%(field)s: '..' is not allowed in paths.") % {"field": field})
    if any(len(part.encode()) > MAX_NAME_BYTES for part in candidate.parts):
        raise PathNotAllowed(_("%(field)s: a file or folder name is longer than %(max_name_bytes)s bytes.")
                             % {"field": field, "max_name_bytes": MAX_NAME_BYTES})
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError) as exc:
        raise PathNotAllowed(_("%(field)s: cannot resolve path (%(exc)s).") % {"field": field, "exc": exc}) from None
    if not any(resolved.is_relative_to(root.resolve()) for root in roots):
        raise PathNotAllowed(_("%(field)s: path is outside the allowed folders.") % {"field": field})
    return resolved


def existing_file(raw: str, field: str, roots: list[Path] | None = None) -> Path:
    path = confine(raw, roots, field)
    if not path.is_file():
        raise NotFound(_("%(field)s: no such file.") % {"field": field})
    return path


def stored_path(root: Path, relative: str) -> Path:
    """A file or folder a row names (its id, its stored path) under ``root``: ValueError if the
    name would leave ``root`` (absolute, ``..``, NUL, empty), so deleting such a row never removes
    anything outside it. Lexical: a symlink inside is the row's own (unlink and rmtree do not follow it)."""
    parts = PurePosixPath(relative).parts
    if not parts or "\x00" in relative or relative.startswith("/") or any(part in ("..", ".") for part in parts):
        raise ValueError(f"{relative!r} is not a name inside {root}")
    return root / relative


def media_url(path: Path) -> str:
    """URL under MEDIA_URL for a file inside MEDIA_ROOT."""
    relative = Path(path).resolve().relative_to(settings.MEDIA_ROOT)
    return settings.MEDIA_URL + relative.as_posix()
