"""Readings of this machine for /api/status."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psutil

from avatar_site.lib.gpus import gpu_stats
from avatar_site.lib.storage import media_folder_or_above


class CpuLoad:
    """The CPU load over the last second or more, shared by every thread of the process.

    psutil.cpu_percent(interval=None) keeps its previous reading per thread: each of a web
    worker's threads answered 0.0 the first time it served a status poll, and later the load
    over the few milliseconds since that thread's last one (0.0 or 100.0 on a busy machine).
    """

    MIN_WINDOW_SECONDS = 1.0

    def __init__(self):
        self.lock = threading.Lock()
        self.times, self.at = psutil.cpu_times(), time.monotonic()
        self.percent: float | None = None

    def read(self) -> float:
        with self.lock:
            if self.percent is not None and time.monotonic() - self.at < self.MIN_WINDOW_SECONDS:
                return self.percent
            if self.percent is None:  # a fresh process: measure over at least a tenth of a second
                time.sleep(max(0.0, 0.1 - (time.monotonic() - self.at)))
            now = psutil.cpu_times()
            total, busy = _total_and_busy(now)
            before_total, before_busy = _total_and_busy(self.times)
            if total > before_total:
                self.percent = round(min(100.0, max(0.0, 100 * (busy - before_busy) / (total - before_total))), 1)
            self.times, self.at = now, time.monotonic()
            return self.percent or 0.0


def _total_and_busy(times) -> tuple[float, float]:
    # As psutil counts: guest time is already in user time; idle and I/O wait are not busy.
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    return total, total - times.idle - getattr(times, "iowait", 0.0)


cpu_load = CpuLoad()


def system_status() -> dict:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(media_folder_or_above()))
    return {
        "cpu_percent": cpu_load.read(),
        "memory_percent": memory.percent,
        "memory_used": memory.total - memory.available,
        "memory_total": memory.total,
        "disk_percent": disk.percent,
        "disk_used": disk.used,  # not in the spec, as memory_used/total are not: the page shows GiB
        "disk_total": disk.total,
        "gpus": gpu_stats(),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
