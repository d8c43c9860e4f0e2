"""Readings of this machine for /api/status."""

from __future__ import annotations

from datetime import UTC, datetime

import psutil

from avatar_site.lib.gpus import gpu_stats
from avatar_site.lib.storage import media_folder_or_above

# The first call only starts the measurement (it answers 0.0): made here, so a web process's first
# status poll reports the load since the process started.
psutil.cpu_percent(interval=None)


def system_status() -> dict:
    memory = psutil.virtual_memory()
    return {
        # interval=None compares with the previous call: no request ever sleeps here.
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory_percent": memory.percent,
        "memory_used": memory.total - memory.available,
        "memory_total": memory.total,
        "disk_percent": psutil.disk_usage(str(media_folder_or_above())).percent,
        "gpus": gpu_stats(),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
