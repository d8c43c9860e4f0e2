import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from chat.models import Recording, Turn
from monitoring import jobs
from monitoring.models import HistoryRecord, Task
from tests.flows import clone_voice, train_avatar
from tests.media import silent_wav, tone_wav

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


@pytest.fixture
def avatar_id(api, media_root):
    clone_voice(api, media_root, "speaker_1")
    return train_avatar(api, media_root).json()["avatar_id"]


def ask(api, avatar_id, recording, **fields):
    with open(recording, "rb") as handle:
        return api.post(
            "/chat_system",
            {"audio": handle, "model_name": "builtin", "model_param": avatar_id, "ref_audio_id": "speaker_1",
             "api_choice": "glm-4-plus", **fields},
        )


def test_it_answers_a_recording_with_text_and_video(api, avatar_id, tmp_path):
    response = ask(api, avatar_id, tone_wav(tmp_path / "input.wav", seconds=2))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "对话生成成功"
    assert json.loads(body["response"]) == {"heard": "hello there", "messages": 2}
    assert body["video_path"].startswith("/video/chat_")
    assert set(body["timings"]) == {"asr", "llm", "tts", "render"}
    history = HistoryRecord.objects.get(type="chat_system")
    assert history.status == "completed"
    assert history.result["transcript"] == "hello there"


def test_it_sends_earlier_turns_of_the_conversation(api, avatar_id, tmp_path):
    first = ask(api, avatar_id, tone_wav(tmp_path / "1.wav", seconds=2)).json()

    second = ask(api, avatar_id, tone_wav(tmp_path / "2.wav", seconds=2), conversation_id=first["conversation_id"])

    assert json.loads(second.json()["response"])["messages"] == 4
    assert Turn.objects.count() == 2


def test_a_turn_whose_job_ends_failed_is_dropped_so_running_it_again_asks_once(api, avatar_id, tmp_path):
    ask(api, avatar_id, tone_wav(tmp_path / "input.wav", seconds=2))
    task = Task.objects.get(kind="chat_system")
    assert Turn.objects.get().task == task
    # Its worker wrote the turn, then died before reporting: recovery marks the job failed.
    Task.objects.filter(pk=task.pk).update(status=Task.Status.RUNNING)
    task.refresh_from_db()
    assert task.finish(Task.Status.FAILED, "The worker stopped.", only_if=Task.Status.RUNNING)

    assert not Turn.objects.exists()
    retried = jobs.retry(task)
    retried.refresh_from_db()
    assert retried.status == Task.Status.SUCCEEDED, retried.message
    assert Turn.objects.get().task == retried


def test_a_turn_left_on_a_task_that_ended_failed_is_not_sent_to_the_language_model(api, avatar_id, tmp_path):
    """Recovery judged the worker dead first; the job's own end then came too late to drop the turn."""
    first = ask(api, avatar_id, tone_wav(tmp_path / "1.wav", seconds=2)).json()
    Task.objects.filter(kind="chat_system").update(status=Task.Status.FAILED)  # no task_finished

    second = ask(api, avatar_id, tone_wav(tmp_path / "2.wav", seconds=2), conversation_id=first["conversation_id"])

    assert json.loads(second.json()["response"])["messages"] == 2  # system prompt and the new question


def test_it_refuses_a_silent_recording(api, avatar_id, tmp_path):
    response = ask(api, avatar_id, silent_wav(tmp_path / "silence.wav"))

    assert response.status_code == 422
    assert "silent" in response.json()["message"]
    assert HistoryRecord.objects.get(type="chat_system").status == "failed"


def test_quiet_speech_with_pauses_is_a_recording_not_silence(api, tmp_path):
    """JFK 35 dB down (a far or quiet microphone): over the whole file, pauses included, it averages
    below the silence level, yet every word is there."""
    import numpy as np
    import soundfile

    from tests.media import shared_media

    samples, rate = soundfile.read(str(shared_media("speech_en_jfk_whisper.flac")), dtype="float32")
    quiet = tmp_path / "quiet.wav"
    soundfile.write(str(quiet), samples * 10 ** (-35 / 20), rate)
    assert 20 * np.log10(np.sqrt(np.mean(np.square(samples * 10 ** (-35 / 20))))) < -50

    with open(quiet, "rb") as handle:
        response = api.post("/save_audio", {"audio": handle}, format="multipart")

    assert response.status_code == 200, response.json()


def test_a_click_in_silence_is_no_recording(api, tmp_path):
    import numpy as np
    import soundfile

    samples = np.zeros(16000 * 10, np.float32)
    samples[80000] = 0.99  # one pop of the microphone
    click = tmp_path / "click.wav"
    soundfile.write(str(click), samples, 16000)

    with open(click, "rb") as handle:
        response = api.post("/save_audio", {"audio": handle}, format="multipart")

    assert response.status_code == 422
    assert "silent" in response.json()["message"]


def test_a_turn_that_could_not_be_queued_leaves_no_recording_or_new_conversation(api, avatar_id, tmp_path,
                                                                                  monkeypatch):
    from avatar_site.lib.errors import ServiceUnavailable
    from chat.models import Conversation

    def database_gone(*args, **kwargs):
        raise ServiceUnavailable("The database went away.")

    monkeypatch.setattr(jobs, "submit", database_gone)

    response = ask(api, avatar_id, tone_wav(tmp_path / "q.wav"))

    assert response.status_code == 503
    assert not Recording.objects.exists()
    assert not Conversation.objects.exists()
    assert not list((tmp_path / "media" / "chat" / "recordings").glob("*.wav"))


def test_it_refuses_an_unknown_llm(api, avatar_id, tmp_path):
    response = ask(api, avatar_id, tone_wav(tmp_path / "q.wav"), api_choice="gpt-99")

    assert response.status_code == 400


def test_save_audio_stores_a_recording_under_a_unique_name(api, tmp_path, media_root):
    recording = tone_wav(tmp_path / "input.wav", seconds=2)

    with open(recording, "rb") as first, open(recording, "rb") as second:
        one = api.post("/save_audio", {"audio": first})
        two = api.post("/save_audio", {"audio": second})

    assert one.status_code == 200
    masked = {"audio_id": None, "duration": None, "audio_url": None, "audio_path": None}
    assert one.json() | masked == {"status": "success", "message": "音频保存成功", **masked}
    assert one.json()["audio_id"] != two.json()["audio_id"]
    assert Recording.objects.count() == 2
    assert all(r.path.is_file() and r.path.suffix == ".wav" for r in Recording.objects.all())


@pytest.fixture
def saved(api, tmp_path):
    with open(tone_wav(tmp_path / "input.wav", seconds=4), "rb") as handle:
        response = api.post("/save_audio", {"audio": handle})
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_saved_recording_plays_for_its_owner_only(api, other_user, saved):
    others = APIClient()
    others.force_authenticate(other_user)

    own = api.get(saved["audio_url"])

    assert saved["message"] == "音频保存成功"
    assert own.status_code == 200 and own["Content-Type"].startswith("audio/")
    assert b"".join(own.streaming_content)[:4] == b"RIFF"
    assert others.get(saved["audio_url"]).status_code == 404


def test_a_saved_recording_can_be_cloned_by_its_owner_only(api, other_user, saved):
    others = APIClient()
    others.force_authenticate(other_user)

    stolen = others.post("/audio_clone", {"original_audio_path": saved["audio_path"], "audio_id": "theirs"})
    cloned = api.post("/audio_clone", {"original_audio_path": saved["audio_path"], "audio_id": "mine"})

    assert stolen.status_code == 404
    assert cloned.status_code == 200, cloned.json()


def test_a_recording_a_queued_clone_reads_is_neither_pruned_nor_deleted(api, saved, monkeypatch):
    from django.core.management import call_command

    from avatar_site.lib.errors import Conflict

    monkeypatch.setattr(jobs, "send", lambda task: None)
    queued = api.post("/audio_clone", {"original_audio_path": saved["audio_path"], "audio_id": "mine", "async": "1"})
    assert queued.status_code == 202, queued.json()
    recording = Recording.objects.get()
    Recording.objects.update(created_at=recording.created_at - timedelta(days=60))

    call_command("prune", "--days", "30")
    with pytest.raises(Conflict):
        jobs.delete_unless_used(recording, "recording")

    assert Recording.objects.filter(pk=recording.pk).exists() and recording.path.is_file()


def test_save_audio_refuses_a_file_that_is_not_audio(api, tmp_path, media_root):
    fake = tmp_path / "input.wav"
    fake.write_text("hello")

    with open(fake, "rb") as handle:
        response = api.post("/save_audio", {"audio": handle})

    assert response.status_code == 415
    assert not Recording.objects.exists()


def test_save_audio_requires_the_audio_field(api):
    response = api.post("/save_audio", {})

    assert response.status_code == 400
    assert "audio" in response.json()["message"]


def test_an_answer_longer_than_the_speech_limit_is_cut_not_refused(api, avatar_id, tmp_path, settings):
    settings.MAX_TEXT_CHARS = 20  # the stand-in model's answer is about 40 characters

    response = ask(api, avatar_id, tone_wav(tmp_path / "input.wav", seconds=2))

    assert response.status_code == 200, response.json()
    assert 0 < len(response.json()["response"]) <= 20
    assert Turn.objects.get().answer == response.json()["response"]


def test_a_long_answer_is_cut_after_its_last_whole_sentence():
    from chat.pipeline import _speakable_length

    answer = "First sentence. Second one is here. " + "x" * 100

    assert _speakable_length(answer, 60) == "First sentence. Second one is here."
    assert _speakable_length("无标点" * 30, 40) == ("无标点" * 30)[:40]
    assert _speakable_length("short.", 60) == "short."


@pytest.mark.django_db(transaction=True)  # SQLite checks the turn's foreign key at commit
def test_a_conversation_deleted_during_its_turn_fails_the_job_and_leaves_no_video(api, avatar_id, tmp_path, media_root,
                                                                                  monkeypatch):
    from chat import pipeline
    from chat.models import Conversation

    render_speech = pipeline.render_speech

    def and_meanwhile(*args, **kwargs):
        render_speech(*args, **kwargs)
        Conversation.objects.all().delete()  # staff cleaning up, or prune

    monkeypatch.setattr(pipeline, "render_speech", and_meanwhile)

    response = ask(api, avatar_id, tone_wav(tmp_path / "input.wav", seconds=2))

    assert response.status_code == 410
    assert response.json()["message"] == "The conversation was deleted while its answer was being made."
    assert not list((media_root / "videos").glob("chat_*"))
