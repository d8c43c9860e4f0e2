"""Who may read which file of the media folder, and give it as an input.

Each app registers the rule for the folders its rows own (in its AppConfig.ready), so that this
module and the media views import no app: ``rule(user, relative)`` answers for a file whose path
relative to MEDIA_ROOT starts with that folder. Staff may read everything; a file under no
registered folder, no one else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath

from django.conf import settings

Rule = Callable[[object, PurePosixPath], bool]
_rules: dict[tuple[str, ...], Rule] = {}


def register(folder: str, rule: Rule) -> None:
    """``rule`` decides for the files under ``folder`` ("voices/speakers"); the deepest folder wins."""
    _rules[tuple(folder.split("/"))] = rule


def may_read(user, relative: PurePosixPath) -> bool:
    """Whether ``user`` may read this file of MEDIA_ROOT: staff anything, others what they own."""
    if user.is_staff:
        return True
    parts = relative.parts
    for folder in sorted(_rules, key=len, reverse=True):
        if parts[:len(folder)] == folder and len(parts) > len(folder):
            return _rules[folder](user, relative)
    return False


def may_use_input(user, path: Path) -> bool:
    """Whether ``user`` may give ``path`` as an input: in the media folder only what they may read;
    elsewhere in the input roots (folders the operator shares), anything."""
    media = settings.MEDIA_ROOT.resolve()
    if not path.is_relative_to(media):
        return True
    return may_read(user, PurePosixPath(path.relative_to(media).as_posix()))
