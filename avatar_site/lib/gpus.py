"""GPU readings through NVML; an empty list on machines without a GPU or driver."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager

from django.conf import settings

logger = logging.getLogger(__name__)


#: How long a reading is reused: nvmlInit took ~20 ms on an H200 host, and 50 clients polling the
#: status page asked for it on every request; now at most once a second per process.
READING_SECONDS = 1.0
NO_NVML_RETRY_SECONDS = 60.0


class _NVML:
    """NVML for one reading at a time: initialised, read, shut down. Kept open, it would hold the
    driver's device files for the life of every web and queue process, and a driver reload, a GPU
    reset or a MIG change would be refused as long as the platform runs."""

    def __init__(self):
        self.lock = threading.Lock()
        self.retry_at = 0.0  # looking for a driver that is not there would cost every request
        self.readings: list[dict] = []
        self.read_at = -float("inf")

    @contextmanager
    def session(self):
        """pynvml, initialised for the block; None where there is no library, driver or device."""
        if time.monotonic() < self.retry_at:
            yield None
            return
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:
            self.retry_at = time.monotonic() + NO_NVML_RETRY_SECONDS
            yield None
            return
        try:
            yield pynvml
        finally:
            try:
                pynvml.nvmlShutdown()
            except Exception:
                pass


_nvml = _NVML()


def gpu_count() -> int | None:
    """How many GPUs NVML counts on this host; None when it cannot tell (no driver here)."""
    with _nvml.lock, _nvml.session() as pynvml:
        if pynvml is None:
            return None
        try:
            return pynvml.nvmlDeviceGetCount()
        except Exception:
            logger.warning("Counting GPUs through NVML failed", exc_info=True)
            return None


def gpu_stats(max_age: float = READING_SECONDS) -> list[dict]:
    """Every GPU's figures, read at most ``max_age`` seconds ago."""
    with _nvml.lock:
        if time.monotonic() - _nvml.read_at >= max_age:
            _nvml.readings, _nvml.read_at = _read_all(), time.monotonic()
        return [dict(reading) for reading in _nvml.readings]


def _read_all() -> list[dict]:
    with _nvml.session() as pynvml:
        if pynvml is None:
            return []
        gpus = []
        try:
            for index in range(pynvml.nvmlDeviceGetCount()):
                try:
                    gpus.append(_reading(pynvml, index))
                except Exception:  # one lost GPU, or a query it does not support, must not hide the others
                    logger.warning("Reading GPU %s through NVML failed", index, exc_info=True)
        except Exception:
            logger.warning("Counting GPUs through NVML failed", exc_info=True)
        return gpus


def _reading(pynvml, index: int) -> dict:
    """One GPU's figures. A figure it does not report (MIG mode: utilisation) is 0, so clients
    written to the spec's numbers keep working, and named in ``unreported``."""
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    name = pynvml.nvmlDeviceGetName(handle)
    try:
        # v2 counts the driver's reserve apart (600 MiB on an idle H200), as nvidia-smi does.
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle, version=pynvml.nvmlMemory_v2)
    except (AttributeError, TypeError, pynvml.NVMLError):  # an older library or driver
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    unreported = []

    def optional(field, read):
        try:
            return read()
        except pynvml.NVMLError:
            unreported.append(field)
            return 0

    reading = {
        "index": index,
        "name": name.decode() if isinstance(name, bytes) else name,
        "load": float(optional("load", lambda: pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)),
        "memory_used": int(memory.used),
        "memory_total": int(memory.total),
        "temperature": int(
            optional("temperature", lambda: pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
        ),
    }
    if unreported:
        reading["unreported"] = unreported
    return reading


def cuda_device_index(gpu_choice: str) -> str:
    """The CUDA_VISIBLE_DEVICES value for a GPU queue on this host: its GPU_DEVICES entry
    ("GPU1=0": a host whose one GPU serves the site's GPU1), else the queue's number."""
    mapped = {queue.strip(): device.strip() for queue, _, device in
              (entry.partition("=") for entry in settings.GPU_DEVICES)}
    if gpu_choice in mapped:
        return mapped[gpu_choice]
    digits = "".join(ch for ch in gpu_choice if ch.isdigit())
    return digits or "0"


def missing_cuda_devices(devices: str) -> list[str]:
    """The CUDA device numbers in ``devices`` (a CUDA_VISIBLE_DEVICES value) this host lacks.

    CUDA skips such a number silently: a job would start and then find no GPU (or, after one bad
    number, none of the rest). Empty when NVML cannot count, and for UUID entries.
    """
    count = gpu_count()
    if count is None:
        return []
    numbers = [part.strip() for part in devices.split(",")]
    return [number for number in numbers if number.isdigit() and int(number) >= count]
