"""/chat_system end to end with the real chat engines: pocketsphinx hears a real recording and the
real zhipuai SDK asks the local fake GLM server. Voice and video engines are the test doubles."""

import pytest

from avatar_site.lib.media import probe
from chat.models import Turn
from chat.tests.test_recognizers import JFK, words_found
from monitoring.models import HistoryRecord
from tests.flows import clone_voice, train_avatar
from tests.media import shared_media

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def real_chat_engines(settings, zhipu):
    settings.TALKING_HEAD_ENGINES = {"builtin": "tests.doubles.StillTalkingHead"}
    settings.VOICE_ENGINES = {"builtin": "tests.doubles.ToneVoice"}
    settings.VOICE_ENGINE = "builtin"
    settings.ASR_ENGINES = {"pocketsphinx": "chat.engines.pocketsphinx.PocketSphinx"}
    settings.ASR_ENGINE = "pocketsphinx"
    settings.ASR_LANGUAGE = "en"
    settings.GPU_QUEUES = ["GPU0"]
    return zhipu


@pytest.fixture
def avatar_id(api, media_root, real_chat_engines):
    clone_voice(api, media_root, "speaker_1")
    return train_avatar(api, media_root).json()["avatar_id"]


def ask_with_jfk(api, avatar_id):
    with open(shared_media("speech_en_jfk_whisper.flac"), "rb") as recording:
        return api.post(
            "/chat_system",
            {"audio": recording, "model_name": "builtin", "model_param": avatar_id, "ref_audio_id": "speaker_1",
             "api_choice": "glm-4-plus"},
        )


def test_it_answers_a_spoken_question_through_the_real_engines(api, avatar_id, media_root, real_chat_engines):
    real_chat_engines.script.reply = "Ask what you can do, and do it well."

    response = ask_with_jfk(api, avatar_id)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert words_found(JFK, body["transcript"]) >= 0.6, body["transcript"]
    assert body["response"] == "Ask what you can do, and do it well."
    video = media_root / "videos" / body["video_path"].removeprefix("/video/")
    assert video.is_file() and probe(video).has_audio
    assert set(body["timings"]) == {"asr", "llm", "tts", "render"}
    (exchange,) = real_chat_engines.received
    assert exchange.body["model"] == "glm-4-plus"
    assert exchange.body["messages"][0]["role"] == "system"
    assert exchange.body["messages"][-1] == {"role": "user", "content": body["transcript"]}
    history = HistoryRecord.objects.get(type="chat_system")
    assert history.status == "completed"
    assert history.result["transcript"] == body["transcript"]
    assert history.result["response"] == "Ask what you can do, and do it well."
    assert Turn.objects.get().answer == "Ask what you can do, and do it well."


def test_it_answers_503_before_queueing_when_no_key_is_set(api, avatar_id, real_chat_engines, settings):
    settings.ZHIPUAI_API_KEY = ""

    response = ask_with_jfk(api, avatar_id)

    assert response.status_code == 503
    assert "ZHIPUAI_API_KEY" in response.json()["message"]
    assert real_chat_engines.received == []


def test_it_answers_503_with_the_reason_when_the_key_is_refused(api, avatar_id, real_chat_engines):
    real_chat_engines.script.status = 401

    response = ask_with_jfk(api, avatar_id)

    assert response.status_code == 503
    assert "refused the API key" in response.json()["message"]
    assert HistoryRecord.objects.get(type="chat_system").status == "failed"
