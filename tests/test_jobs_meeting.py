"""When jobs, cancels, retries, recovery, prune and the admin meet: each job keeps to what is its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
import soundfile
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring import jobs, recovery, runner
from monitoring.models import HistoryRecord, Task
from monitoring.signals import task_finished
from tests import doubles
from tests.flows import clone_voice, train_avatar
from tests.media import tone_wav
from training.models import Avatar
from voices.cloning import VoiceError
from voices.models import Speaker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


@pytest.fixture
def held_in_queue(monkeypatch):
    """Submitted tasks stay queued until the test runs them with runner.run_task."""
    monkeypatch.setattr(jobs, "send", lambda task: None)


@pytest.fixture
def finishes(monkeypatch):
    """The statuses task_finished announces, in order."""
    seen = []
    receiver = lambda sender, task, **kwargs: seen.append(task.status)  # noqa: E731
    task_finished.connect(receiver, weak=False, dispatch_uid="test_jobs_meeting")
    yield seen
    task_finished.disconnect(dispatch_uid="test_jobs_meeting")


def test_cancelling_a_queued_retry_leaves_the_retry_that_trains_alone(api, media_root, monkeypatch):
    train = doubles.StillTalkingHead.train
    attempts, seen = [], {}

    def flaky_train(self, job, progress):
        attempts.append(job)
        if len(attempts) == 1:
            raise doubles.EngineError("transient")
        result = train(self, job, progress)
        Task.objects.get(pk=seen["second_retry"]).request_cancel()  # meanwhile, in the admin
        seen["files_kept"] = (job.avatar_dir / "still.png").exists()
        return result

    monkeypatch.setattr(doubles.StillTalkingHead, "train", flaky_train)
    failed = Task.objects.get(pk=train_avatar(api, media_root).json()["task_id"])
    monkeypatch.setattr(jobs, "send", lambda task: None)
    first_retry, second_retry = jobs.retry(failed), jobs.retry(failed)  # retry clicked twice
    seen["second_retry"] = second_retry.pk

    runner.run_task(first_retry.pk)

    first_retry.refresh_from_db()
    assert seen["files_kept"]
    assert first_retry.status == Task.Status.SUCCEEDED
    assert Avatar.objects.get(pk=failed.parameters["avatar_id"]).status == Avatar.Status.READY


def test_a_retry_does_not_take_an_avatar_another_task_is_training(api, media_root, monkeypatch):
    monkeypatch.setattr(doubles.StillTalkingHead, "train", lambda *args: (_ for _ in ()).throw(
        doubles.EngineError("transient")))
    failed = Task.objects.get(pk=train_avatar(api, media_root).json()["task_id"])
    monkeypatch.setattr(jobs, "send", lambda task: None)
    training, late = jobs.retry(failed), jobs.retry(failed)
    Avatar.objects.filter(pk=failed.parameters["avatar_id"]).update(status=Avatar.Status.TRAINING,
                                                                    trained_by=training.pk)

    runner.run_task(late.pk)

    late.refresh_from_db()
    assert late.status == Task.Status.FAILED
    assert "being trained by another task" in late.message
    assert Avatar.objects.get(pk=failed.parameters["avatar_id"]).status == Avatar.Status.TRAINING


def test_a_failing_clone_does_not_delete_the_next_clone_of_its_audio_id(api, media_root, monkeypatch):
    monkeypatch.setattr(doubles.ToneVoice, "extract", lambda *args, **kwargs: (_ for _ in ()).throw(
        VoiceError("bad reference")))
    second = {}
    disk_full = runner.media_disk_full

    def another_request_in_between():
        # In _finish: the failed job has released audio_id X, its task is not finished yet.
        if not second:
            monkeypatch.setattr(jobs, "send", lambda task: None)
            reference = tone_wav(media_root.parent / "inputs" / "second.wav", seconds=4)
            second["answer"] = api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": "X"})
        return disk_full()

    monkeypatch.setattr(runner, "media_disk_full", another_request_in_between)

    first = clone_voice(api, media_root, "X")

    assert first.status_code == 422
    assert second["answer"].status_code == 202
    assert Speaker.objects.filter(pk="X", status=Speaker.Status.EXTRACTING).exists()


def test_a_queued_clone_does_not_fill_a_newer_speaker_of_its_audio_id(api, media_root, other_user, held_in_queue):
    inputs = media_root.parent / "inputs"
    first = api.post("/audio_clone", {"original_audio_path": str(tone_wav(inputs / "a.wav", seconds=4)),
                                      "audio_id": "X", "async": "1"})
    Speaker.objects.get(pk="X").delete()  # in the admin, before any job uses it
    bob = APIClient()
    bob.force_authenticate(other_user)
    second = bob.post("/audio_clone", {"original_audio_path": str(tone_wav(inputs / "b.wav", seconds=6)),
                                       "audio_id": "X", "async": "1"})

    for answer in (first, second):
        runner.run_task(answer.json()["task_id"])

    assert Task.objects.get(pk=first.json()["task_id"]).status == Task.Status.FAILED
    assert Task.objects.get(pk=second.json()["task_id"]).status == Task.Status.SUCCEEDED
    speaker = Speaker.objects.get(pk="X")
    assert speaker.owner == other_user
    assert soundfile.info(str(speaker.reference_path)).duration == pytest.approx(6, abs=0.5)


def test_a_request_whose_task_could_not_be_recorded_leaves_nothing_to_run(api, media_root, monkeypatch):
    create = HistoryRecord.objects.create

    def locked_once(**fields):
        if "task" in fields and not locked_once.done:
            locked_once.done = True
            raise OperationalError("database is locked")
        return create(**fields)

    locked_once.done = False
    monkeypatch.setattr(HistoryRecord.objects, "create", locked_once)
    api.raise_request_exception = False

    refused = clone_voice(api, media_root, "X")

    assert refused.status_code == 500
    assert not Task.objects.exists()  # nothing for recovery to send later
    assert not Speaker.objects.exists()  # the audio_id is free again
    assert clone_voice(api, media_root, "X").status_code == 200


def test_a_task_deleted_while_its_request_waits_answers_cancelled(api, media_root, monkeypatch, settings):
    clone_voice(api, media_root, "speaker_1")
    monkeypatch.setattr(jobs, "send", lambda task: None)  # the speech waits in the queue
    settings.SYNC_WAIT_SECONDS = 3

    def admin_deletes_it(seconds):
        for task in Task.objects.filter(kind="audio_clone", status="queued"):
            assert task.discard()

    monkeypatch.setattr(jobs.time, "sleep", admin_deletes_it)

    answer = api.post("/audio_clone", {"audio_id": "speaker_1", "gen_audio_id": "g1", "generate_text": "hello"})

    assert answer.status_code == 409
    assert list(HistoryRecord.objects.filter(parameters__gen_audio_id="g1").values_list("status", flat=True)) == [
        HistoryRecord.Status.CANCELLED]


def test_a_request_that_waited_in_vain_for_a_worker_says_its_task_is_queued_and_where(
        api, media_root, monkeypatch, settings):
    clone_voice(api, media_root, "speaker_1")
    monkeypatch.setattr(jobs, "send", lambda task: None)  # no worker takes it
    settings.SYNC_WAIT_SECONDS = 0

    answer = api.post("/audio_clone", {"audio_id": "speaker_1", "gen_audio_id": "g1", "generate_text": "hello"})

    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["task_status"]) == ("accepted", "queued")
    assert body["message"] == "The task is still waiting for a worker of queue CPU; follow it at status_url."
    assert body["status_url"] == f"/api/tasks/{body['task_id']}"


def test_recoverys_verdict_stands_when_the_job_ends_after_it(api, media_root, monkeypatch, finishes):
    """Recovery took the worker for dead (a clock step, two hosts of one name): the job's own end is too late."""
    clone_voice(api, media_root, "speaker_1")
    finishes.clear()
    synthesize = doubles.ToneVoice.synthesize

    def judged_dead_meanwhile(self, *args, **kwargs):
        running = Task.objects.get(kind="audio_clone", status="running")
        Task.objects.filter(pk=running.pk).update(worker_pid=2**22 + 12345)
        recovery.fail_orphaned_tasks()
        return synthesize(self, *args, **kwargs)

    monkeypatch.setattr(doubles.ToneVoice, "synthesize", judged_dead_meanwhile)

    answer = api.post("/audio_clone", {"audio_id": "speaker_1", "gen_audio_id": "g1", "generate_text": "hello"})

    task = Task.objects.get(pk=answer.json()["task_id"])
    assert finishes == [Task.Status.FAILED]
    assert task.status == Task.Status.FAILED
    assert HistoryRecord.objects.get(task=task).status == HistoryRecord.Status.FAILED


def test_prune_keeps_an_old_conversation_a_queued_question_continues(api, media_root, tmp_path, monkeypatch):
    from chat.models import Conversation, Turn

    clone_voice(api, media_root, "speaker_1")
    avatar_id = train_avatar(api, media_root).json()["avatar_id"]
    monkeypatch.setattr(jobs, "send", lambda task: None)  # the question waits in the queue
    long_ago = timezone.now() - timedelta(days=40)
    conversation = Conversation.objects.create(owner=api.handler._force_user, created_at=long_ago)
    Turn.objects.create(conversation=conversation, question="q", answer="a", created_at=long_ago)
    with open(tone_wav(tmp_path / "question.wav", seconds=2), "rb") as question:
        asked = api.post("/chat_system", {"audio": question, "model_name": "builtin", "model_param": avatar_id,
                                          "ref_audio_id": "speaker_1", "api_choice": "glm-4-plus",
                                          "conversation_id": str(conversation.pk), "async": "1"})

    call_command("prune", days=30)
    runner.run_task(asked.json()["task_id"])

    assert Task.objects.get(pk=asked.json()["task_id"]).status == Task.Status.SUCCEEDED
    assert conversation.turns.count() == 2


@pytest.mark.django_db(transaction=True)
def test_job_requests_sent_at_once_all_queue_on_sqlite(user, input_root, media_root, held_in_queue):
    """SQLite (the default): a submit reads (free ids) then writes; with deferred transactions a
    writer committing in between made the others fail at once with "database is locked" (500)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    tone_wav(input_root / "voice.wav", seconds=4)

    def clone(index):
        client = APIClient()
        client.force_authenticate(user)
        try:
            for attempt in range(4):
                response = client.post("/audio_clone", {"audio_id": f"at_once_{index}_{attempt}",
                                                        "original_audio_path": "voice.wav", "async": True},
                                       format="json")
                if response.status_code >= 300:
                    return response.status_code, response.json()["message"]
            return 202, ""
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(clone, range(8)))

    assert answers == [(202, "")] * 8
    assert Task.objects.count() == HistoryRecord.objects.count() == Speaker.objects.count() == 32


@pytest.fixture
def bobs_api(other_user):
    client = APIClient()
    client.force_authenticate(other_user)
    return client


def test_a_retried_render_does_not_take_another_users_avatar_or_voice_under_a_freed_id(api, bobs_api, media_root):
    clone_voice(api, media_root, "speaker_1")
    avatar_id = train_avatar(api, media_root).json()["avatar_id"]
    render = api.post("/video_generation", {"model_name": "builtin", "model_param": avatar_id,
                                            "ref_audio_id": "speaker_1", "gpu_choice": "GPU0", "target_text": "hi"})
    original = Task.objects.get(pk=render.json()["task_id"])
    speech = api.post("/audio_clone", {"audio_id": "speaker_1", "gen_audio_id": "g", "generate_text": "hi"})
    spoken = Task.objects.get(pk=speech.json()["task_id"])
    Avatar.objects.get(pk=avatar_id).delete()  # staff cleaning up
    Speaker.objects.get(pk="speaker_1").delete()
    assert train_avatar(bobs_api, media_root).json()["avatar_id"] == avatar_id  # the freed id, now bob's
    assert clone_voice(bobs_api, media_root, "speaker_1").status_code == 200

    retried = jobs.retry(original)
    retried.refresh_from_db()

    assert retried.status == Task.Status.FAILED
    assert retried.result["http_status"] == 410
    assert "video_path" not in retried.result
    generate = jobs.retry(spoken)
    generate.refresh_from_db()
    assert (generate.status, generate.result["http_status"]) == (Task.Status.FAILED, 410)


def test_a_retried_training_leaves_a_newer_avatar_under_its_freed_id_alone(api, bobs_api, media_root,
                                                                          held_in_queue):
    first = Task.objects.get(pk=train_avatar(api, media_root).json()["task_id"])
    first.finish(Task.Status.CANCELLED, "Cancelled.")
    avatar_id = first.parameters["avatar_id"]
    Avatar.objects.get(pk=avatar_id).delete()
    assert train_avatar(bobs_api, media_root).json()["avatar_id"] == avatar_id  # bob's, queued
    bobs = Avatar.objects.get(pk=avatar_id)

    retried = jobs.retry(first)
    runner.run_task(retried.pk)
    retried.refresh_from_db()

    assert retried.status == Task.Status.FAILED
    bobs.refresh_from_db()
    assert (bobs.status, bobs.trained_by) == (Avatar.Status.TRAINING, "")  # still waiting for bob's own job


def test_a_staff_retry_also_renders_only_with_rows_older_than_its_request(admin_user, api, media_root):
    staff = APIClient()
    staff.force_authenticate(admin_user)
    clone_voice(staff, media_root, "speaker_1")
    avatar_id = train_avatar(staff, media_root).json()["avatar_id"]
    render = staff.post("/video_generation", {"model_name": "builtin", "model_param": avatar_id,
                                              "ref_audio_id": "speaker_1", "gpu_choice": "GPU0", "target_text": "hi"})
    original = Task.objects.get(pk=render.json()["task_id"])
    Avatar.objects.get(pk=avatar_id).delete()
    Speaker.objects.get(pk="speaker_1").delete()
    assert train_avatar(api, media_root).json()["avatar_id"] == avatar_id  # alice's now, made after the request
    clone_voice(api, media_root, "speaker_1")

    retried = jobs.retry(original)
    retried.refresh_from_db()

    assert (retried.status, retried.result["http_status"]) == (Task.Status.FAILED, 410)
