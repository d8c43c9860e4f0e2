"""Room left on the media folder's disk: uploads and jobs need some before they start."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ServiceUnavailable


class MediaDiskFull(ServiceUnavailable):
    pass


def media_folder_or_above() -> Path:
    """The media folder, or the nearest folder above it that exists (before the first upload)."""
    path = Path(settings.MEDIA_ROOT)
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def media_free_bytes() -> int | None:
    """Bytes free for this process on the media folder's disk (None if it cannot be read)."""
    try:
        return shutil.disk_usage(media_folder_or_above()).free
    except OSError:
        return None


def media_disk_full(incoming: int = 0) -> bool:
    """Whether the media disk is below its reserve, or would be after ``incoming`` more bytes."""
    free = media_free_bytes()
    return free is not None and free - incoming < settings.MEDIA_MIN_FREE_MB * 2**20


def disk_full_message() -> str:
    free_mb = (media_free_bytes() or 0) / 2**20
    return _(
        "No space left on the media folder's disk (%(free_mb).1f MB free, %(needed_mb)s MB needed): "
        "free some space, e.g. with manage.py prune."
    ) % {"free_mb": free_mb, "needed_mb": settings.MEDIA_MIN_FREE_MB}


def remove_tree(path: Path) -> None:
    """Remove a folder and all in it; OSError when any of it stays (a read-only or foreign-owned
    disk), so no one deletes a row whose files live on, for the next owner of its id to find."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass


def prune_orphan_folders(root: Path, known_ids, cutoff: datetime, dry_run: bool) -> int:
    """Remove the folders under ``root`` that no row names (``known_ids``) and nothing has
    touched since ``cutoff``: what a crash or an older version left of a deleted voice or avatar.
    Returns how many there were."""
    if not root.is_dir():
        return 0
    known = set(known_ids)
    orphans = [folder for folder in root.iterdir()
               if folder.is_dir() and folder.name not in known and folder.stat().st_mtime < cutoff.timestamp()]
    if not dry_run:
        for folder in orphans:
            remove_tree(folder)
    return len(orphans)


def check_media_space(incoming: int = 0) -> None:
    """Refuse new work (503) while the media folder's disk is full, or an upload would fill it."""
    if media_disk_full(incoming):
        raise MediaDiskFull(disk_full_message())
