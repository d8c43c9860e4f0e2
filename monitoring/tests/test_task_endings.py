"""What a task that ends without its job running leaves behind: nothing reserved, one history row."""

import pytest

from monitoring import jobs
from monitoring.models import HistoryRecord, Task
from tests.flows import clone_voice, train_avatar
from training.models import Avatar
from voices.models import Speaker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


@pytest.fixture
def no_worker(monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)


def test_cancelling_a_queued_clone_frees_its_audio_id(api, media_root, no_worker):
    response = clone_voice(api, media_root, "speaker_1")
    task = Task.objects.get(pk=response.json()["task_id"])
    assert Speaker.objects.get(pk="speaker_1").status == Speaker.Status.EXTRACTING

    api.post(f"/api/tasks/{task.pk}/cancel")

    assert not Speaker.objects.filter(pk="speaker_1").exists()
    again = clone_voice(api, media_root, "speaker_1")
    assert again.status_code in (200, 202), again.json()


def test_cancelling_a_queued_training_leaves_its_avatar_cancelled_not_failed(api, media_root, no_worker):
    response = train_avatar(api, media_root)

    api.post(f"/api/tasks/{response.json()['task_id']}/cancel")

    avatar = Avatar.objects.get(pk=response.json()["avatar_id"])
    assert avatar.status == Avatar.Status.CANCELLED
    assert api.get("/api/avatars?all=1").json()["avatars"][0]["status"] == "cancelled"
    assert not avatar.folder.exists()


def test_an_unavailable_queue_writes_one_failed_history_row(api, media_root, monkeypatch):
    def broken_broker(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", broken_broker)

    response = train_avatar(api, media_root)

    assert response.status_code == 503
    assert "broker down" in response.json()["message"]
    assert HistoryRecord.objects.filter(type="model_training").count() == 1
    assert HistoryRecord.objects.get(type="model_training").status == "failed"
    assert Avatar.objects.get().status == Avatar.Status.FAILED
