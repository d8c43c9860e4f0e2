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

    assert set(body) == set(TaskSerializer().fields)
    queued_task.refresh_from_db()
    assert body["finished_at"] == serializers.DateTimeField().to_representation(queued_task.finished_at)
    assert body["finished_at"].endswith("+08:00")
    assert body["duration"] == queued_task.duration
    assert body["result"] == {"video_path": "/video/x.mp4"}


@pytest.mark.usefixtures("double_engines")
def test_clients_do_not_see_where_their_uploads_lie_on_the_server(api, media_root):
    import io

    from tests.media import tone_wav

    with open(tone_wav(media_root.parent / "mine.wav"), "rb") as handle:
        upload = io.BytesIO(handle.read())
    upload.name = "mine.wav"

    answer = api.post("/audio_clone", {"original_audio_path": upload, "audio_id": "speaker_1"})

    polled = api.get(f"/api/tasks/{answer.json()['task_id']}").json()
    history = api.get("/api/history/audio_clone").json()["history"]
    assert polled["parameters"]["original_audio_path"] == "(upload) mine.wav"
    assert str(media_root) not in str(polled) + str(history)


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


def declared_schema(api, path: str, method: str, status: str) -> dict:
    """The published OpenAPI 3.0 schema of an answer, as JSON Schema (``nullable`` becomes a null type)."""

    def as_json_schema(node):
        if isinstance(node, list):
            return [as_json_schema(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: as_json_schema(value) for key, value in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        return node

    spec = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    declared = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return as_json_schema({**declared, "components": spec["components"]})


def test_cancel_and_poll_answers_match_the_published_schema(api, queued_task):
    import jsonschema

    polled = api.get(f"/api/tasks/{queued_task.pk}").json()
    cancelled = api.post(f"/api/tasks/{queued_task.pk}/cancel").json()

    jsonschema.validate(polled, declared_schema(api, "/api/tasks/{task_id}", "get", "200"))
    jsonschema.validate(cancelled, declared_schema(api, "/api/tasks/{task_id}/cancel", "post", "200"))
    assert set(cancelled) == {"status", "message", "task_id", "task_status"}


def test_the_accepted_answer_matches_the_published_schema(api, queued_task):
    import jsonschema

    from monitoring.responses import accepted

    for path in ("/video_generation", "/audio_clone", "/chat_system"):
        jsonschema.validate(accepted(queued_task).data, declared_schema(api, path, "post", "202"))


def test_an_owner_runs_a_failed_task_again(api, queued_task):
    queued_task.finish(Task.Status.FAILED, "The engine ran out of GPU memory.")

    response = api.post(f"/api/tasks/{queued_task.pk}/retry")

    assert response.status_code == 202
    body = response.json()
    again = Task.objects.get(pk=body["task_id"])
    assert body["status_url"] == f"/api/tasks/{again.pk}"
    assert again.status == Task.Status.QUEUED
    assert again.parameters["retry_of"] == queued_task.pk
    assert again.owner == queued_task.owner


@pytest.mark.parametrize("status", [Task.Status.QUEUED, Task.Status.SUCCEEDED])
def test_only_failed_or_cancelled_tasks_run_again(api, queued_task, status):
    Task.objects.filter(pk=queued_task.pk).update(status=status)

    response = api.post(f"/api/tasks/{queued_task.pk}/retry")

    assert response.status_code == 409
    assert Task.objects.count() == 1


def test_a_voice_clone_does_not_run_again(api, user, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    clone = jobs.submit(HistoryType.AUDIO_CLONE, "voices.tasks.extract_voice", {"mode": "clone"}, owner=user)
    clone.finish(Task.Status.FAILED, "boom")

    response = api.post(f"/api/tasks/{clone.pk}/retry")

    assert response.status_code == 409
    assert response.json()["message"] == "A voice clone does not run again: send the reference to /audio_clone anew."


def test_no_one_runs_another_users_task_again(queued_task, other_user):
    from rest_framework.test import APIClient

    queued_task.finish(Task.Status.FAILED, "boom")
    client = APIClient()
    client.force_authenticate(other_user)

    assert client.post(f"/api/tasks/{queued_task.pk}/retry").status_code == 404
    assert Task.objects.count() == 1


def test_a_task_runs_again_once_until_that_run_fails_too(api, queued_task):
    queued_task.finish(Task.Status.FAILED, "boom")

    first = api.post(f"/api/tasks/{queued_task.pk}/retry")
    second = api.post(f"/api/tasks/{queued_task.pk}/retry")
    Task.objects.filter(pk=first.json()["task_id"]).update(status=Task.Status.FAILED)
    third = api.post(f"/api/tasks/{queued_task.pk}/retry")

    assert first.status_code == 202
    assert second.status_code == 409
    assert second.json()["message"] == f"Task {queued_task.pk} runs again already, as {first.json()['task_id']}."
    assert third.status_code == 202


def test_a_task_of_a_queue_the_site_no_longer_has_does_not_run_again(api, queued_task, settings):
    queued_task.finish(Task.Status.FAILED, "boom")
    settings.GPU_QUEUES = ["GPU1"]

    response = api.post(f"/api/tasks/{queued_task.pk}/retry")

    assert response.status_code == 409
    assert "no longer has" in response.json()["message"]


def test_a_training_runs_again_only_for_its_avatar_while_that_is_untrained(api, user, monkeypatch):
    from training.models import Avatar

    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    avatar = Avatar.objects.create(id="user_20261205", engine="builtin", source_video="x", epochs=1, owner=user,
                                   status=Avatar.Status.FAILED)
    training = jobs.submit(HistoryType.MODEL_TRAINING, "training.tasks.train", {"avatar_id": avatar.id}, owner=user,
                           queue="GPU0")
    training.finish(Task.Status.FAILED, "boom")
    Avatar.objects.filter(pk=avatar.pk).update(status=Avatar.Status.READY)  # trained meanwhile (the admin)

    ready = api.post(f"/api/tasks/{training.pk}/retry")
    avatar.delete()
    gone = api.post(f"/api/tasks/{training.pk}/retry")

    assert ready.status_code == 409
    assert ready.json()["message"] == "Avatar user_20261205 is ready: it is not trained again."
    assert gone.status_code == 409
    assert gone.json()["message"] == "Avatar user_20261205 was deleted: train a new one with /model_training."
    assert Task.objects.count() == 1
