import re

import pytest

from avatar_site.lib.engines import EngineUnavailable
from avatar_site.lib.media import to_wav
from chat.engines import get_recognizer
from tests.media import shared_media

LIBRISPEECH = (
    "it was the first great sorrow of his life it was not so much the loss of the cotton itself "
    "but the fantasy the hopes the dreams built around it"
)
JFK = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"


def words_found(reference: str, transcript: str) -> float:
    heard = set(re.findall(r"[a-z']+", transcript.lower()))
    expected = reference.split()
    return sum(word in heard for word in expected) / len(expected)


@pytest.fixture
def pocketsphinx(settings):
    settings.ASR_ENGINES = {"pocketsphinx": "chat.engines.pocketsphinx.PocketSphinx"}
    settings.ASR_ENGINE = "pocketsphinx"
    settings.ASR_LANGUAGE = "en"


@pytest.mark.slow
def test_pocketsphinx_recognises_read_english_speech(pocketsphinx):
    recording = shared_media("speech_en_librispeech_1995-1837-0001_wenet.wav")

    transcript = get_recognizer().transcribe(recording)

    assert words_found(LIBRISPEECH, transcript) >= 0.6, transcript


@pytest.mark.slow
def test_pocketsphinx_recognises_a_converted_stereo_recording(pocketsphinx, tmp_path):
    wav = to_wav(shared_media("speech_en_jfk_whisper.flac"), tmp_path / "jfk.wav")

    transcript = get_recognizer().transcribe(wav)

    assert words_found(JFK, transcript) >= 0.6, transcript


def test_pocketsphinx_refuses_other_languages(pocketsphinx, settings):
    settings.ASR_LANGUAGE = "zh"

    with pytest.raises(EngineUnavailable, match="only understands English") as caught:
        get_recognizer()

    assert caught.value.status_code == 503


@pytest.fixture
def whisper(settings):
    settings.ASR_ENGINES = {"whisper": "chat.engines.whisper.Whisper"}
    settings.ASR_ENGINE = "whisper"
    settings.WHISPER_LANGUAGE = "zh"


def test_whisper_explains_what_is_missing(whisper, settings, tmp_path):
    settings.WHISPER_MODEL_PATH = str(tmp_path)

    with pytest.raises(EngineUnavailable) as caught:
        get_recognizer()

    assert caught.value.status_code == 503
    message = str(caught.value.detail)
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        assert "pip install faster-whisper" in message
    else:
        assert "no model.bin" in message


def test_whisper_needs_a_model_folder(whisper, settings):
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed here")
    settings.WHISPER_MODEL_PATH = ""

    with pytest.raises(EngineUnavailable, match="WHISPER_MODEL_PATH"):
        get_recognizer()


@pytest.mark.parametrize(("setting", "code"), [
    ("en", "en"), ("en-us", "en"), ("English", "en"), ("zh_CN", "zh"), ("Mandarin", "zh"), ("  ", None), ("", None),
])
def test_whisper_takes_the_language_settings_pocketsphinx_takes(setting, code):
    """WHISPER_LANGUAGE defaults to ASR_LANGUAGE, where "en-us" is fine for pocketsphinx; faster-whisper wants "en"."""
    from chat.engines.whisper import whisper_language

    assert whisper_language(setting) == code
