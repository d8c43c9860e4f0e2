import pytest
from django.core.management import call_command

from monitoring import jobs
from monitoring.models import HistoryRecord, HistoryType, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    return client


@pytest.fixture
def finished_task(media_root):
    output = media_root / "videos" / "out.mp4"
    output.parent.mkdir()
    output.write_bytes(b"video")
    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="tests.jobs.count_job", queue="GPU0",
                                      parameters={"steps": 1})
    HistoryRecord.objects.create(type=task.kind, status="queued", task=task)
    task.finish(Task.Status.FAILED, "boom", {"files": [str(output)]})
    return task, output


@pytest.mark.parametrize("model", ["task", "historyrecord"])
def test_the_admin_lists_with_filters_and_search(staff_client, finished_task, model):
    response = staff_client.get(f"/admin/monitoring/{model}/", {"q": "gen", "status": "failed"})

    assert response.status_code == 200
    assert finished_task[0].pk.encode() in response.content or b"video_generation" in response.content


def test_delete_with_files_removes_outputs(staff_client, finished_task):
    task, output = finished_task

    staff_client.post("/admin/monitoring/task/", {"action": "delete_with_files", "_selected_action": [task.pk]})

    assert not Task.objects.filter(pk=task.pk).exists()
    assert not output.exists()


def test_retry_queues_a_failed_task_again(staff_client, finished_task, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    task, _ = finished_task

    staff_client.post("/admin/monitoring/task/", {"action": "retry_tasks", "_selected_action": [task.pk]})

    retried = Task.objects.exclude(pk=task.pk).get()
    assert retried.status == Task.Status.QUEUED
    assert retried.parameters == task.parameters


def test_prune_deletes_old_history_tasks_and_files(finished_task):
    task, output = finished_task
    Task.objects.update(created_at="2000-01-01T00:00:00Z")
    HistoryRecord.objects.update(created_at="2000-01-01T00:00:00Z")

    call_command("prune", "--days", "30")

    assert not Task.objects.exists()
    assert not HistoryRecord.objects.exists()
    assert not output.exists()


def test_ensure_admin_creates_one_account_once(django_user_model, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-1")

    call_command("ensure_admin")
    call_command("ensure_admin")

    assert django_user_model.objects.filter(is_superuser=True).count() == 1
    assert django_user_model.objects.get(username="boss").check_password("a-long-password-1")


def test_prune_deletes_old_recordings(media_root):
    from chat.models import Recording

    old = media_root / "chat" / "recordings" / "old.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"RIFF")
    Recording.objects.create(file="chat/recordings/old.wav", duration=1.0, created_at="2000-01-01T00:00:00Z")
    Recording.objects.create(file="chat/recordings/new.wav", duration=1.0)

    call_command("prune", "--days", "30")

    assert list(Recording.objects.values_list("file", flat=True)) == ["chat/recordings/new.wav"]
    assert not old.exists()
