from datetime import UTC, datetime

import pytest

from monitoring.models import HistoryRecord, Task
from tests.doubles import unremovable_files
from tests.flows import clone_voice
from tests.media import silent_wav, tone_wav
from voices.models import Speaker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


def test_it_clones_a_voice_from_a_path(api, media_root):
    response = clone_voice(api, media_root, "speaker_1")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "success"
    assert body["speaker_id"] == "speaker_1"
    assert body["message"] == "音频特征提取成功"
    speaker = Speaker.objects.get(pk="speaker_1")
    assert speaker.status == Speaker.Status.READY
    assert speaker.profile["rms"] > 0.01
    assert (speaker.folder / "reference.wav").is_file()
    assert HistoryRecord.objects.get(type="audio_clone").status == "completed"


def test_it_clones_a_voice_from_an_upload(api, media_root, tmp_path):
    reference = tone_wav(tmp_path / "upload.wav")

    with open(reference, "rb") as handle:
        response = api.post("/audio_clone", {"original_audio_path": handle, "audio_id": "uploaded"})

    assert response.status_code == 200, response.json()
    assert Speaker.objects.get(pk="uploaded").status == Speaker.Status.READY
    assert not list((media_root / "uploads").iterdir())  # the voice sample lives on only in the voice's folder


def test_it_lists_cloned_voices(api, media_root):
    clone_voice(api, media_root, "speaker_1")

    response = api.get("/api/cloned-audios")

    body = response.json()
    assert body["status"] == "success"
    assert body["total_count"] == 1
    audio = body["audios"][0]
    assert audio["id"] == "speaker_1"
    assert audio["name"] == "speaker_1"
    assert audio["status"] == "已提取特征"
    assert audio["reference_audio"] == "/media/voices/speakers/speaker_1/reference.wav"


def test_it_lists_voices_with_their_time_in_the_site_time_zone(api, user, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    Speaker.objects.create(id="v1", name="v1", engine="builtin", status="ready", owner=user,
                           created_at=datetime(2026, 1, 2, 23, 30, tzinfo=UTC))

    audio = api.get("/api/cloned-audios").json()["audios"][0]

    assert audio["created_at"] == "2026-01-03 07:30:00"
    assert audio["reference_audio"] == "unknown"


def test_it_generates_speech_in_a_cloned_voice(api, media_root):
    clone_voice(api, media_root, "speaker_1")

    response = api.post("/audio_clone", {"audio_id": "speaker_1", "gen_audio_id": "hello", "generate_text": "你好，世界"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "音频生成成功"
    assert body["cloned_audio_path"].startswith(f"/media/voices/generated/{body['task_id']}_")
    assert body["cloned_audio_path"].endswith("_hello.wav")
    served = api.get(body["cloned_audio_path"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content)[:4] == b"RIFF"


def test_what_a_killed_generate_job_left_half_written_is_removed_by_recovery(api, media_root, monkeypatch):
    from monitoring.models import Task
    from tests.doubles import ToneVoice

    clone_voice(api, media_root, "speaker_1")
    partials = []

    def killed_while_writing(self, text, speaker_dir, profile, output_wav, progress):
        partials.append(output_wav)
        raise RuntimeError("killed")

    monkeypatch.setattr(ToneVoice, "synthesize", killed_while_writing)
    api.post("/audio_clone", {"audio_id": "speaker_1", "gen_audio_id": "hello", "generate_text": "hi"})
    partials[0].write_bytes(b"RIFF")  # as a SIGKILL leaves it: the job's own clean-up never ran

    Task.objects.get(kind="audio_clone", parameters__mode="generate").remove_scratch()

    assert not partials[0].exists()


def test_generate_mode_takes_the_specs_json_body_with_an_empty_path(api, media_root):
    """The spec's example: original_audio_path "" (生成模式留空), target_audio_id "", sent as JSON."""
    clone_voice(api, media_root, "speaker_1")

    response = api.post("/audio_clone", {"original_audio_path": "", "audio_id": "speaker_1", "target_audio_id": "",
                                         "gen_audio_id": "hello", "generate_text": "你好"}, format="json")

    assert response.status_code == 200, response.json()


def test_it_refuses_a_taken_audio_id(api, media_root):
    clone_voice(api, media_root, "speaker_1")

    response = clone_voice(api, media_root, "speaker_1")

    assert response.status_code == 409
    assert response.json()["status"] == "error"


def test_it_refuses_an_unknown_speaker_in_generate_mode(api):
    response = api.post("/audio_clone", {"audio_id": "nobody", "gen_audio_id": "x", "generate_text": "hi"})

    assert response.status_code == 404
    assert "nobody" in response.json()["message"]


@pytest.mark.parametrize("audio_id", ["../evil", "a/b", "a b", "", ".hidden", "a.b", "a\\b", "_x", "说话人 一",
                                      "\u3164", "a\u3164", "ab\u17b4", "问" * 51, "\U00020000" * 38])
def test_it_refuses_ids_with_path_characters(api, media_root, audio_id):
    reference = tone_wav(media_root.parent / "inputs" / "ref.wav")

    response = api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": audio_id})

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_it_refuses_text_over_the_limit(api, media_root, settings):
    clone_voice(api, media_root, "speaker_1")

    response = api.post(
        "/audio_clone", {"audio_id": "speaker_1", "gen_audio_id": "x", "generate_text": "字" * (settings.MAX_TEXT_CHARS + 1)}
    )

    assert response.status_code == 400


def test_it_refuses_a_non_audio_upload_and_keeps_nothing(api, media_root, tmp_path):
    text_file = tmp_path / "notes.wav"
    text_file.write_text("this is not audio at all")

    with open(text_file, "rb") as handle:
        response = api.post("/audio_clone", {"original_audio_path": handle, "audio_id": "fake"})

    assert response.status_code == 415
    assert not list((media_root / "uploads").rglob("*.*"))
    assert not Speaker.objects.exists()
    failed = HistoryRecord.objects.get(type="audio_clone")
    assert failed.status == "failed"
    assert "not a readable media file" in failed.result["message"].lower()


def test_it_refuses_a_too_short_reference_and_frees_the_id(api, media_root):
    reference = tone_wav(media_root.parent / "inputs" / "short.wav", seconds=1)

    response = api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": "short"})

    assert response.status_code == 422
    assert not Speaker.objects.filter(pk="short").exists()
    assert not (media_root / "voices" / "speakers" / "short").exists()


def test_it_refuses_a_path_outside_the_roots(api, tmp_path):
    outside = tone_wav(tmp_path / "outside.wav")

    response = api.post("/audio_clone", {"original_audio_path": str(outside), "audio_id": "x"})

    assert response.status_code == 400
    assert "outside" in response.json()["message"]


def test_it_refuses_both_modes_at_once(api, media_root):
    reference = silent_wav(media_root.parent / "inputs" / "ref.wav")

    response = api.post(
        "/audio_clone",
        {"original_audio_path": str(reference), "audio_id": "x", "gen_audio_id": "y", "generate_text": "hi"},
    )

    assert response.status_code == 400


def test_it_accepts_a_large_upload_with_async(api, tmp_path):
    reference = tone_wav(tmp_path / "long.wav", seconds=100)  # 3.2 MB: stored in a temporary file
    assert reference.stat().st_size > 2_600_000

    with open(reference, "rb") as handle:
        response = api.post("/audio_clone", {"original_audio_path": handle, "audio_id": "big", "async": "1"})

    assert response.status_code == 202, response.json()
    assert response.json()["task_id"].startswith("clone_")


@pytest.mark.parametrize("status", ["extracting", "failed"])
def test_speaking_with_a_voice_that_is_not_ready_is_refused_before_queueing(api, user, status):
    Speaker.objects.create(id="busy", name="busy", engine="builtin", owner=user, status=status)

    response = api.post("/audio_clone", {"audio_id": "busy", "gen_audio_id": "g1", "generate_text": "hi"})

    assert response.status_code == 409
    assert "not ready" in response.json()["message"]


def test_a_clone_refused_for_an_id_taken_meanwhile_leaves_no_upload(api, media_root, user, tmp_path, monkeypatch):
    from voices import submission

    def and_meanwhile(*args, **kwargs):
        found = media_input(*args, **kwargs)
        Speaker.objects.create(id="raced", name="raced", engine="builtin", owner=user)  # another request
        return found

    media_input = submission.media_input
    monkeypatch.setattr(submission, "media_input", and_meanwhile)

    with open(tone_wav(tmp_path / "upload.wav"), "rb") as handle:
        response = api.post("/audio_clone", {"original_audio_path": handle, "audio_id": "raced"})

    assert response.status_code == 409
    assert not list((media_root / "uploads").iterdir())


def test_a_user_deletes_their_own_voice_with_its_files_but_not_one_in_use_or_another_users(
        api, media_root, other_user, monkeypatch):
    from rest_framework.test import APIClient

    from monitoring import jobs

    clone_voice(api, media_root, "mine")
    clone_voice(api, media_root, "busy")
    monkeypatch.setattr(jobs, "send", lambda task: None)
    api.post("/audio_clone", {"audio_id": "busy", "gen_audio_id": "later", "generate_text": "hi", "async": "1"})
    folder = Speaker.objects.get(pk="mine").folder
    others = APIClient()
    others.force_authenticate(other_user)

    assert others.delete("/api/cloned-audios/mine").status_code == 404
    in_use = api.delete("/api/cloned-audios/busy")
    deleted = api.delete("/api/cloned-audios/mine")

    assert in_use.status_code == 409
    assert in_use.json()["message"].startswith("Voice busy is used by queued or running tasks (clone_")
    assert deleted.json() == {"status": "success", "message": "声音已删除"}
    assert not Speaker.objects.filter(pk="mine").exists() and not folder.exists()
    assert api.delete("/api/cloned-audios/mine").status_code == 404


def test_a_cancelled_clones_upload_goes_but_a_file_named_by_path_stays_even_in_the_uploads_folder(
        api, admin_user, media_root, tmp_path, monkeypatch):
    from rest_framework.test import APIClient

    from monitoring import jobs
    from monitoring.models import Task

    send = jobs.send
    monkeypatch.setattr(jobs, "send", lambda task: None)  # held in its queue
    with open(tone_wav(tmp_path / "upload.wav"), "rb") as handle:
        queued = api.post("/audio_clone", {"original_audio_path": handle, "audio_id": "later", "async": "1"})
    Task.objects.get(pk=queued.json()["task_id"]).request_cancel()
    assert not list((media_root / "uploads").iterdir())

    monkeypatch.setattr(jobs, "send", send)
    named = tone_wav(media_root / "uploads" / "someone_elses.wav")  # an earlier request's upload
    staff = APIClient()
    staff.force_authenticate(admin_user)  # staff may name any media file by path
    assert staff.post("/audio_clone", {"original_audio_path": str(named),
                                       "audio_id": "from_path"}).status_code == 200
    assert named.is_file()


def test_a_clone_queued_before_uploads_were_flagged_is_told_by_its_history_name():
    from voices.signals import was_uploaded

    assert was_uploaded({"original_audio_path": "(upload) me.wav"})
    assert not was_uploaded({"original_audio_path": "uploads/me.wav"})
    assert not was_uploaded({"original_audio_path": "(upload) me.wav", "source_uploaded": False})


def test_a_voice_whose_files_cannot_be_removed_stays_with_a_clear_503(api, media_root, monkeypatch):
    clone_voice(api, media_root, "kept")
    folder = Speaker.objects.get(pk="kept").folder

    unremovable_files(monkeypatch)
    response = api.delete("/api/cloned-audios/kept")

    assert response.status_code == 503
    assert response.json()["message"] == "Voice kept was not deleted: its files cannot be removed (Permission denied)."
    assert Speaker.objects.filter(pk="kept").exists() and folder.is_dir()


def test_a_new_voice_does_not_inherit_files_left_under_its_id(api, media_root):
    leftover = Speaker(id="reused").folder / "best_segment.wav"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"someone else's voice")

    response = clone_voice(api, media_root, "reused")

    assert response.status_code == 200, response.json()
    assert not leftover.exists()


def test_a_refused_clone_whose_files_cannot_be_removed_leaves_its_voice_failed_not_extracting(
        api, media_root, monkeypatch):
    from voices import cloning

    monkeypatch.setattr(cloning, "MIN_REFERENCE_SECONDS", 5.0)  # the job's check, not the request's (3 s)
    reference = tone_wav(media_root.parent / "inputs" / "short.wav", seconds=4)
    unremovable_files(monkeypatch)

    response = api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": "short"})

    assert response.status_code == 422, response.json()
    assert response.json()["message"] == "The reference has less than 5 s of audio."
    assert Speaker.objects.get(pk="short").status == Speaker.Status.FAILED


def test_a_reference_too_short_is_refused_before_a_voice_or_task_exists(api, media_root):
    reference = tone_wav(media_root.parent / "inputs" / "short.wav", seconds=1)

    response = api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": "short"})

    assert response.status_code == 422
    assert response.json()["message"] == "original_audio_path: The reference has less than 3 s of audio."
    assert not Speaker.objects.exists() and not Task.objects.exists()


def test_voices_are_named_in_any_script_and_speak_and_list_under_that_name(api, media_root):
    response = clone_voice(api, media_root, "说话人一")
    assert response.status_code == 200, response.json()

    spoken = api.post("/audio_clone", {"audio_id": "说话人一", "gen_audio_id": "问候", "generate_text": "hello"})

    assert spoken.status_code == 200, spoken.json()
    listed = api.get("/api/cloned-audios").json()["audios"]
    assert [voice["id"] for voice in listed] == ["说话人一"]
    clip = api.get(spoken.json()["cloned_audio_path"])
    assert clip.status_code == 200 and spoken.json()["cloned_audio_path"].endswith("_问候.wav")
    assert api.delete("/api/cloned-audios/%E8%AF%B4%E8%AF%9D%E4%BA%BA%E4%B8%80").status_code == 200


@pytest.mark.parametrize("given, stored", [
    ("ＡＢＣ", "ABC"),  # fullwidth
    ("\u1112\u1161\u11ab\u1100\u116e\u11a8", "한국"),  # Hangul spelled in jamo
    ("cafe\u0301", "café"),  # e and a combining accent
    ("आवाज़", "आवाज़"),  # vowel signs and a nukta: marks after the first letter
])
def test_what_looks_alike_is_one_voice_id(api, media_root, given, stored):
    response = clone_voice(api, media_root, given)

    assert response.status_code == 200, response.json()
    assert Speaker.objects.get().pk == stored
    again = clone_voice(api, media_root, stored)
    assert again.status_code == 409


def test_a_generated_clip_named_with_fifty_chinese_characters_is_written(api, media_root):
    clone_voice(api, media_root, "说话人一")

    spoken = api.post("/audio_clone", {"audio_id": "说话人一", "gen_audio_id": "问" * 50, "generate_text": "hello"})

    assert spoken.status_code == 200, spoken.json()


def test_a_deleted_voices_clone_keeps_its_history_without_a_dead_link(api, media_root):
    clone_voice(api, media_root, "mine")
    before = api.get("/api/history/audio_clone").json()["history"][0]["result"]

    api.delete("/api/cloned-audios/mine")
    after = api.get("/api/history/audio_clone").json()["history"][0]["result"]

    assert before["reference_audio"].startswith("/media/voices/speakers/mine/")
    assert after["reference_audio"] is None and after["output_deleted"] is True
    assert after["speaker_id"] == "mine"
