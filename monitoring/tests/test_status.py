from datetime import datetime


def test_it_reports_cpu_memory_disk_and_gpus(api, db):
    response = api.get("/api/status")

    assert response.status_code == 200
    data = response.json()
    assert 0 <= data["cpu_percent"] <= 100
    assert 0 < data["memory_percent"] < 100
    assert 0 < data["memory_used"] < data["memory_total"]
    assert 0 < data["disk_percent"] <= 100
    assert isinstance(data["gpus"], list)  # empty on machines without NVML
    assert data["timestamp"].endswith("Z")
    datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))


def test_it_requires_authentication(anonymous_api, db):
    response = anonymous_api.get("/api/status")

    assert response.status_code in (401, 403)
    assert response.json()["status"] == "error"
