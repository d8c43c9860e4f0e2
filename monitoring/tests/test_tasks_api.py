import pytest

from monitoring import jobs
from monitoring.models import HistoryType, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_task(user, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    return jobs.submit(HistoryType.MODEL_TRAINING, "tests.jobs.count_job", {"steps": 1}, owner=user, queue="GPU0")


def test_it_shows_a_task(api, queued_task):
    response = api.get(f"/api/tasks/{queued_task.pk}")

    body = response.json()
    assert body["status"] == "success"
    assert body["task_id"] == queued_task.pk
    assert body["task_status"] == "queued"
    assert body["progress"] == 0
    assert "log_tail" in body


def test_it_shows_every_field_of_the_schema_as_drf_would(api, queued_task, settings):
    from rest_framework import serializers

    from monitoring.serializers import TaskSerializer

    settings.TIME_ZONE = "Asia/Shanghai"
    queued_task.claim(pid=1, host="h")
    queued_task.finish(Task.Status.SUCCEEDED, result={"video_path": "/video/x.mp4"})

    body = api.get(f"/api/tasks/{queued_task.pk}").json()

    assert set(body) == {"status", *TaskSerializer().fields}
    queued_task.refresh_from_db()
    assert body["finished_at"] == serializers.DateTimeField().to_representation(queued_task.finished_at)
    assert body["finished_at"].endswith("+08:00")
    assert body["duration"] == queued_task.duration
    assert body["result"] == {"video_path": "/video/x.mp4"}


def test_clients_do_not_see_the_server_paths_kept_for_cleaning_up(api, queued_task, media_root):
    output = str(media_root / "videos" / "x.mp4")
    queued_task.claim(pid=1, host="h")
    queued_task.finish(Task.Status.SUCCEEDED, result={"video_path": "/video/x.mp4", "files": [output]})

    polled = api.get(f"/api/tasks/{queued_task.pk}").json()
    history = api.get("/api/history/model_training").json()["history"]

    assert polled["result"] == {"video_path": "/video/x.mp4"}
    assert history[0]["result"] == {"video_path": "/video/x.mp4"}
    assert str(media_root) not in str(polled) + str(history)
    queued_task.refresh_from_db()
    assert queued_task.result["files"] == [output]  # still there for Task.discard


def test_it_cancels_a_queued_task(api, queued_task):
    response = api.post(f"/api/tasks/{queued_task.pk}/cancel")

    assert response.status_code == 200
    queued_task.refresh_from_db()
    assert queued_task.status == Task.Status.CANCELLED


def test_it_refuses_to_cancel_a_finished_task(api, queued_task):
    queued_task.finish(Task.Status.SUCCEEDED)

    response = api.post(f"/api/tasks/{queued_task.pk}/cancel")

    assert response.status_code == 409


def test_it_hides_other_users_tasks(queued_task, other_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other_user)

    response = client.get(f"/api/tasks/{queued_task.pk}")

    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_it_answers_404_for_an_unknown_task(api):
    response = api.get("/api/tasks/train_20000101_000000")

    assert response.status_code == 404
