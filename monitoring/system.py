"""Readings of this machine for /api/status."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psutil
from django.conf import settings

from avatar_site.lib.gpus import gpu_stats


def system_status() -> dict:
    memory = psutil.virtual_memory()
    return {
        # interval=None compares with the previous call: no request ever sleeps here.
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory_percent": memory.percent,
        "memory_used": memory.total - memory.available,
        "memory_total": memory.total,
        "disk_percent": psutil.disk_usage(str(_existing_folder(settings.MEDIA_ROOT))).percent,
        "gpus": gpu_stats(),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def _existing_folder(path: Path) -> Path:
    """The media folder, or the nearest folder above it that exists (before the first upload)."""
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path
