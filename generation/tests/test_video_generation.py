import json
import subprocess

import pytest

from monitoring.models import HistoryRecord, Task
from tests.flows import clone_voice, train_avatar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


@pytest.fixture
def avatar_id(api, media_root):
    clone_voice(api, media_root, "speaker_1")
    return train_avatar(api, media_root).json()["avatar_id"]


def generate(api, avatar_id, **fields):
    return api.post(
        "/video_generation",
        {"model_name": "builtin", "model_param": avatar_id, "ref_audio_id": "speaker_1", "gpu_choice": "GPU0",
         "target_text": "hello world", **fields},
    )


def ffprobe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def test_it_renders_a_playable_video_and_serves_it(api, avatar_id, media_root):
    response = generate(api, avatar_id)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "视频生成成功"
    assert body["video_path"].startswith("/video/gen_")
    assert body["task_id"].startswith("gen_")
    video = media_root / "videos" / body["video_path"].removeprefix("/video/")
    streams = {s["codec_type"]: s for s in ffprobe(video)["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["audio"]["codec_name"] == "aac"
    served = api.get(body["video_path"])
    assert served.status_code == 200
    assert served["Content-Type"] == "video/mp4"
    assert HistoryRecord.objects.get(type="video_generation").status == "completed"


def test_the_voice_is_found_however_its_id_is_written(api, avatar_id, media_root):
    clone_voice(api, media_root, "café")

    decomposed = generate(api, avatar_id, ref_audio_id="cafe\u0301")
    fullwidth = generate(api, avatar_id, ref_audio_id="ｓｐｅａｋｅｒ＿１")

    assert decomposed.status_code == 200, decomposed.json()
    assert fullwidth.status_code == 200, fullwidth.json()


def test_two_renders_never_share_a_file_name(api, avatar_id):
    first = generate(api, avatar_id).json()["video_path"]
    second = generate(api, avatar_id).json()["video_path"]

    assert first != second


def test_it_accepts_the_avatar_folder_as_model_param(api, avatar_id, media_root):
    response = generate(api, str(media_root / "avatars" / avatar_id))

    assert response.status_code == 200, response.json()


def test_it_renders_the_reference_audio_when_the_text_is_empty(api, avatar_id):
    response = generate(api, avatar_id, target_text="")

    assert response.status_code == 200, response.json()


def test_it_answers_at_once_with_async(api, avatar_id):
    response = generate(api, avatar_id, **{"async": "1"})

    assert response.status_code == 202
    assert response.json()["task_id"].startswith("gen_")


def test_it_refuses_an_unknown_speaker(api, avatar_id):
    response = generate(api, avatar_id, ref_audio_id="ghost")

    assert response.status_code == 404
    assert HistoryRecord.objects.filter(type="video_generation", status="failed").count() == 1


def test_a_voice_still_being_cloned_is_not_ready_rather_than_unknown(api, avatar_id, user):
    from voices.models import Speaker

    Speaker.objects.create(id="busy", name="busy", engine="builtin", owner=user, status=Speaker.Status.EXTRACTING)

    response = generate(api, avatar_id, ref_audio_id="busy")

    assert response.status_code == 409
    assert "not ready" in response.json()["message"]


def test_an_avatar_still_training_or_failed_is_not_ready_as_a_voice_is(api, avatar_id, user):
    from training.models import Avatar

    Avatar.objects.create(id="user_busy", engine="builtin", source_video="a.mp4", epochs=1, owner=user)

    response = generate(api, "user_busy")

    assert response.status_code == 409
    assert response.json()["message"] == "model_param: avatar user_busy is not ready (training)."


def test_it_refuses_an_unknown_avatar(api, avatar_id):
    response = generate(api, "user_19990101")

    assert response.status_code == 404


def test_it_refuses_an_avatar_of_another_engine(api, avatar_id):
    response = generate(api, avatar_id, model_name="SyncTalk")

    assert response.status_code == 400
    assert "trained with builtin" in response.json()["message"]


def test_an_avatar_of_another_engine_is_the_clients_mistake_even_when_that_engine_cannot_run_here(
        api, avatar_id, settings):
    settings.TALKING_HEAD_ENGINES = {**settings.TALKING_HEAD_ENGINES,
                                     "SyncTalk": "training.engines.synctalk.SyncTalk"}
    settings.SYNCTALK_HOME = ""

    response = generate(api, avatar_id, model_name="SyncTalk")

    assert response.status_code == 400
    assert "trained with builtin" in response.json()["message"]


def test_it_refuses_a_model_param_outside_the_roots(api, avatar_id):
    response = generate(api, avatar_id, model_param="/etc")

    assert response.status_code == 400


def test_it_does_not_show_other_users_avatars(api, avatar_id, other_user):
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(other_user)

    response = generate(other, avatar_id)

    assert response.status_code == 404


def test_a_render_that_fails_answers_with_the_reason(api, avatar_id, media_root):
    (media_root / "avatars" / avatar_id / "still.png").unlink()

    response = generate(api, avatar_id)

    assert response.status_code == 422
    assert response.json()["status"] == "error"
    task = Task.objects.get(pk=response.json()["task_id"])
    assert task.status == Task.Status.FAILED
    assert not list((media_root / "videos").glob("*.mp4"))


def test_a_cancel_during_a_render_that_reports_nothing_still_cancels(api, avatar_id, media_root, monkeypatch):
    from tests.doubles import StillTalkingHead

    render = StillTalkingHead.render

    def silent_render(self, job, progress):
        Task.objects.filter(kind="video_generation", status="running").update(cancel_requested=True)
        render(self, job, lambda *args, **kwargs: None)  # an engine that never reports or looks

    monkeypatch.setattr(StillTalkingHead, "render", silent_render)

    response = generate(api, avatar_id)

    assert response.status_code == 409
    assert Task.objects.get(kind="video_generation").status == Task.Status.CANCELLED
    assert not list((media_root / "videos").glob("*.mp4"))
