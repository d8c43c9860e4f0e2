"""GPU readings through NVML; an empty list on machines without a GPU or driver."""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


_NO_NVML_UNTIL = 0.0
NO_NVML_RETRY_SECONDS = 60.0


def gpu_stats() -> list[dict]:
    global _NO_NVML_UNTIL
    if time.monotonic() < _NO_NVML_UNTIL:  # looking for a driver that is not there costs every request
        return []
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no library, no driver, no device: all mean "no GPU here"
        _NO_NVML_UNTIL = time.monotonic() + NO_NVML_RETRY_SECONDS
        return []
    gpus = []
    try:
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            utilization = pynvml.nvmlDeviceGetUtilizationRates(handle)
            gpus.append(
                {
                    "name": name.decode() if isinstance(name, bytes) else name,
                    "load": float(utilization.gpu),
                    "memory_used": int(memory.used),
                    "memory_total": int(memory.total),
                    "temperature": int(
                        pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
                    ),
                }
            )
    except Exception:
        logger.warning("Reading GPU %s through NVML failed", len(gpus), exc_info=True)
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass
    return gpus


def cuda_device_index(gpu_choice: str) -> str:
    """'GPU1' → '1', the value for CUDA_VISIBLE_DEVICES."""
    digits = "".join(ch for ch in gpu_choice if ch.isdigit())
    return digits or "0"
