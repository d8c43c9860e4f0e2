import shutil
import subprocess
import threading
import time
from datetime import datetime

import pytest


def test_it_reports_cpu_memory_disk_and_gpus(api, db):
    response = api.get("/api/status")

    assert response.status_code == 200
    data = response.json()
    assert 0 <= data["cpu_percent"] <= 100
    assert 0 < data["memory_percent"] < 100
    assert 0 < data["memory_used"] < data["memory_total"]
    assert 0 < data["disk_percent"] <= 100
    assert 0 < data["disk_used"] < data["disk_total"]
    assert isinstance(data["gpus"], list)  # empty on machines without NVML
    assert data["timestamp"].endswith("Z")
    datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))


def test_it_requires_authentication(anonymous_api, db):
    response = anonymous_api.get("/api/status")

    assert response.status_code in (401, 403)
    assert response.json()["status"] == "error"


def test_a_gpu_that_fails_a_query_or_entirely_does_not_hide_the_others(monkeypatch):
    import sys
    import types

    from avatar_site.lib import gpus

    class NVMLError(Exception):
        pass

    def handle(index):
        if index == 2:
            raise NVMLError("GPU is lost")
        return index

    def utilization(index):
        if index == 0:
            raise NVMLError("Not Supported")  # MIG mode
        return types.SimpleNamespace(gpu=42)

    fake = types.SimpleNamespace(
        NVMLError=NVMLError, NVML_TEMPERATURE_GPU=0, nvmlInit=lambda: None, nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 4, nvmlDeviceGetHandleByIndex=handle, nvmlDeviceGetName=lambda h: f"GPU-{h}",
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(used=1, total=2),
        nvmlDeviceGetUtilizationRates=utilization, nvmlDeviceGetTemperature=lambda h, sensor: 60,
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(gpus, "_nvml", gpus._NVML())

    readings = gpus.gpu_stats()

    assert [gpu["index"] for gpu in readings] == [0, 1, 3]
    assert readings[0]["load"] == 0.0 and readings[0]["unreported"] == ["load"]
    assert readings[1]["load"] == 42.0 and "unreported" not in readings[1]


def test_a_gpu_queue_uses_its_number_unless_the_host_maps_it(settings):
    from avatar_site.lib.gpus import cuda_device_index

    settings.GPU_DEVICES = ["GPU1 = 0"]  # spaces as the settings check allows

    assert cuda_device_index("GPU1") == "0"
    assert cuda_device_index("GPU2") == "2"


@pytest.mark.skipif(shutil.which("nvidia-smi") is None, reason="needs a GPU host (nvidia-smi)")
def test_on_a_gpu_host_it_reports_the_gpus_nvidia_smi_sees(api, db):
    query = ["nvidia-smi", "--query-gpu=index,name,memory.total,memory.used", "--format=csv,noheader,nounits"]
    seen = [line.split(", ") for line in subprocess.run(query, capture_output=True, text=True,
                                                         check=True).stdout.splitlines()]

    gpus = api.get("/api/status").json()["gpus"]

    assert [(gpu["index"], gpu["name"]) for gpu in gpus] == [(int(index), name) for index, name, _, _ in seen]
    for gpu, (_, _, total_mib, used_mib) in zip(gpus, seen, strict=True):
        assert gpu["memory_total"] >> 20 == int(total_mib)
        assert abs((gpu["memory_used"] >> 20) - int(used_mib)) <= 64
        assert 0 <= gpu["load"] <= 100
        assert 0 < gpu["temperature"] < 120 or "temperature" in gpu.get("unreported", [])


def test_gpu_memory_used_leaves_out_the_drivers_reserve_as_nvidia_smi_does(monkeypatch):
    import sys
    import types

    from avatar_site.lib import gpus

    def memory_info(handle, version=None):  # NVML: v1's "used" counts the driver's reserve in
        reserve, used = 615 << 20, 1 << 30
        if version == 2:
            return types.SimpleNamespace(total=8 << 30, reserved=reserve, used=used)
        return types.SimpleNamespace(total=8 << 30, used=used + reserve)

    fake = types.SimpleNamespace(
        NVMLError=Exception, NVML_TEMPERATURE_GPU=0, nvmlMemory_v2=2, nvmlInit=lambda: None,
        nvmlShutdown=lambda: None, nvmlDeviceGetCount=lambda: 1, nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetName=lambda h: "NVIDIA H200", nvmlDeviceGetMemoryInfo=memory_info,
        nvmlDeviceGetUtilizationRates=lambda h: types.SimpleNamespace(gpu=0), nvmlDeviceGetTemperature=lambda h, s: 30,
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(gpus, "_nvml", gpus._NVML())

    assert gpus.gpu_stats()[0]["memory_used"] == 1 << 30


def test_a_gpu_reading_is_reused_for_a_second_and_nvml_is_not_left_open(monkeypatch):
    import sys
    import types

    from avatar_site.lib import gpus

    calls = {"init": 0, "count": 0, "shutdown": 0}

    def count():
        calls["count"] += 1
        return 1

    fake = types.SimpleNamespace(
        NVMLError=Exception, NVML_TEMPERATURE_GPU=0, nvmlInit=lambda: calls.update(init=calls["init"] + 1),
        nvmlShutdown=lambda: calls.update(shutdown=calls["shutdown"] + 1),
        nvmlDeviceGetCount=count, nvmlDeviceGetHandleByIndex=lambda i: i, nvmlDeviceGetName=lambda h: "GPU",
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(total=2, used=1),
        nvmlDeviceGetUtilizationRates=lambda h: types.SimpleNamespace(gpu=5), nvmlDeviceGetTemperature=lambda h, s: 30,
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(gpus, "_nvml", gpus._NVML())

    assert len(gpus.gpu_stats()) == 1 and len(gpus.gpu_stats()) == 1  # the second within the second: reused
    assert calls == {"init": 1, "count": 1, "shutdown": 1}
    assert len(gpus.gpu_stats(max_age=0)) == 1 and gpus.gpu_count() == 1
    # Each reading opens and closes NVML: a process holds no driver files between them.
    assert calls == {"init": 3, "count": 3, "shutdown": 3}


def test_cpu_load_is_one_reading_for_every_thread_not_zero_on_each_threads_first_poll():
    from concurrent.futures import ThreadPoolExecutor

    from monitoring.system import CpuLoad

    load = CpuLoad()
    stop = time.monotonic() + 0.5
    busy = threading.Thread(target=lambda: [None for _ in iter(lambda: time.monotonic() < stop, False)])
    busy.start()  # one core busy: the machine is not idle
    time.sleep(0.3)
    with ThreadPoolExecutor(8) as pool:
        readings = list(pool.map(lambda _: load.read(), range(8)))  # each thread's first poll
    busy.join()

    assert len(set(readings)) == 1
    assert readings[0] > 0.0
