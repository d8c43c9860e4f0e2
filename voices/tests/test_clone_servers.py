"""Contract tests of the GPT-SoVITS and CosyVoice clients against stand-in servers."""

from __future__ import annotations

import socket
import wave

import numpy as np
import pytest
import soundfile

from avatar_site.lib.engines import EngineUnavailable
from tests.media import tone_wav
from voices.cloning import VoiceError
from voices.engines.cosyvoice import CosyVoice
from voices.engines.gpt_sovits import GPTSoVITS
from voices.models import Speaker
from voices.tests.standins.clone_servers import CosyVoiceHandler, GPTSoVITSHandler, StandInServer


def quiet(percent, message=""):
    pass


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def speaker_folder(folder, segment_seconds=5.0, covers_all_speech=True, prompt_text="希望你以后能够做的比我还好呦。"):
    folder.mkdir(parents=True, exist_ok=True)
    tone_wav(folder / "best_segment.wav", seconds=segment_seconds)
    tone_wav(folder / "trimmed.wav", seconds=segment_seconds + 1)
    profile = {
        "prompt_text": prompt_text,
        "best_segment": {"file": "best_segment.wav", "seconds": segment_seconds, "covers_all_speech": covers_all_speech},
    }
    return folder, profile


@pytest.fixture
def gpt_sovits(settings):
    with StandInServer(GPTSoVITSHandler) as server:
        settings.GPT_SOVITS_URL = server.url
        yield server


@pytest.fixture
def cosyvoice(settings):
    with StandInServer(CosyVoiceHandler) as server:
        settings.COSYVOICE_URL = server.url
        yield server


def test_gpt_sovits_sends_the_best_segment_and_writes_the_wav(gpt_sovits, tmp_path):
    folder, profile = speaker_folder(tmp_path / "speaker")
    output = tmp_path / "out.wav"

    GPTSoVITS().synthesize("你好，欢迎使用 GPT-SoVITS。", folder, profile, output, quiet)

    request = gpt_sovits.requests[0]
    assert request["ref_audio_path"] == str((folder / "best_segment.wav").resolve())
    assert request["text"] == "你好，欢迎使用 GPT-SoVITS。"
    assert request["text_lang"] == "zh"
    assert request["prompt_text"] == "希望你以后能够做的比我还好呦。"
    assert request["prompt_lang"] == "zh"
    assert request["media_type"] == "wav"
    assert request["streaming_mode"] is False
    info = soundfile.info(str(output))
    assert info.samplerate == 32000
    assert info.frames / info.samplerate == pytest.approx(0.08 * len(request["text"]), abs=0.01)


def test_gpt_sovits_leaves_out_a_transcript_that_does_not_match_the_segment(gpt_sovits, tmp_path):
    folder, profile = speaker_folder(tmp_path / "speaker", covers_all_speech=False)

    GPTSoVITS().synthesize("Hello there.", folder, profile, tmp_path / "out.wav", quiet)

    request = gpt_sovits.requests[0]
    assert request["prompt_text"] == ""
    assert request["text_lang"] == "en"
    assert request["prompt_lang"] == "en"


def test_gpt_sovits_maps_media_root_to_the_servers_mount(gpt_sovits, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.GPT_SOVITS_MEDIA_ROOT = "/srv/avatar-media"
    folder, profile = speaker_folder(tmp_path / "voices" / "speakers" / "s1")

    # The stand-in cannot see /srv: api_v2 answers {"message": "tts failed", "Exception": why}.
    with pytest.raises(VoiceError, match="HTTP 400\\): tts failed: .*/srv/avatar-media"):
        GPTSoVITS().synthesize("Hello.", folder, profile, tmp_path / "out.wav", quiet)

    assert gpt_sovits.requests[0]["ref_audio_path"] == "/srv/avatar-media/voices/speakers/s1/best_segment.wav"


def test_gpt_sovits_refuses_a_segment_outside_three_to_ten_seconds(gpt_sovits, tmp_path):
    folder, profile = speaker_folder(tmp_path / "speaker", segment_seconds=12)

    with pytest.raises(VoiceError, match="3–10 s"):
        GPTSoVITS().synthesize("Hello.", folder, profile, tmp_path / "out.wav", quiet)

    assert gpt_sovits.requests == []


def test_gpt_sovits_is_unavailable_without_a_url(settings):
    settings.GPT_SOVITS_URL = ""

    with pytest.raises(EngineUnavailable, match="GPT_SOVITS_URL"):
        GPTSoVITS().check_available()


def test_gpt_sovits_is_unavailable_when_the_server_is_down(settings):
    settings.GPT_SOVITS_URL = closed_port_url()

    with pytest.raises(EngineUnavailable, match="cannot be reached"):
        GPTSoVITS().check_available()


def test_cosyvoice_sends_the_form_and_wraps_raw_pcm_in_a_wav(cosyvoice, settings, tmp_path):
    settings.COSYVOICE_SAMPLE_RATE = 22050
    folder, profile = speaker_folder(tmp_path / "speaker")
    output = tmp_path / "out.wav"

    CosyVoice().synthesize("收到好友从远方寄来的生日礼物。", folder, profile, output, quiet)

    fields = cosyvoice.requests[0]
    assert fields["method"] == "GET"  # what upstream's server registers and its client sends
    assert fields["tts_text"] == "收到好友从远方寄来的生日礼物。"
    assert fields["prompt_text"] == "希望你以后能够做的比我还好呦。"
    assert fields["prompt_wav"] == (folder / "trimmed.wav").read_bytes()
    with wave.open(str(output)) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (22050, 2, 1)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert wav.getnframes() == int(0.08 * 15 * 22050)
    assert np.abs(samples).max() > 5000


@pytest.mark.parametrize("methods", [("GET", "POST"), ("POST",)])
def test_cosyvoice_speaks_with_servers_that_register_post(settings, tmp_path, methods):
    """Later upstream servers take GET and POST; derived ones POST only (405 to GET: sent again)."""
    handler = type("CosyVoicePost", (CosyVoiceHandler,), {"methods": methods})
    folder, profile = speaker_folder(tmp_path / "speaker")
    with StandInServer(handler) as server:
        settings.COSYVOICE_URL = server.url
        CosyVoice().synthesize("Hello.", folder, profile, tmp_path / "out.wav", quiet)

    assert [request["method"] for request in server.requests] == (["GET"] if "GET" in methods else ["GET", "POST"])
    assert server.requests[-1]["prompt_wav"] == (folder / "trimmed.wav").read_bytes()
    assert (tmp_path / "out.wav").stat().st_size > 1000


def test_cosyvoice_clones_from_the_segment_alone_when_there_is_no_transcript(cosyvoice, tmp_path):
    """/inference_zero_shot requires prompt_text (FastAPI refuses an empty form field with 422)."""
    folder, profile = speaker_folder(tmp_path / "speaker", prompt_text="")

    CosyVoice().synthesize("Hello.", folder, profile, tmp_path / "out.wav", quiet)

    fields = cosyvoice.requests[0]
    assert fields["endpoint"] == "/inference_cross_lingual"
    assert fields["tts_text"] == "Hello."  # untagged unless COSYVOICE_LANGUAGE_TAGS (upstream then skips its frontend)
    assert fields["prompt_wav"] == (folder / "best_segment.wav").read_bytes()
    assert "prompt_text" not in fields
    assert (tmp_path / "out.wav").exists()


@pytest.mark.parametrize(("tags", "text", "sent"), [
    (True, "今天天气很好。", "<|zh|>今天天气很好。"),  # CosyVoice 1 reads the language to speak from its tag
    (True, "The weather is lovely today.", "<|en|>The weather is lovely today."),
    (False, "今天天气很好。", "今天天气很好。"),
])
def test_cosyvoice_tags_cross_lingual_text_with_its_language(cosyvoice, settings, tmp_path, tags, text, sent):
    settings.COSYVOICE_LANGUAGE_TAGS = tags
    folder, profile = speaker_folder(tmp_path / "speaker", prompt_text="")

    CosyVoice().synthesize(text, folder, profile, tmp_path / "out.wav", quiet)

    assert cosyvoice.requests[0]["tts_text"] == sent


def test_cosyvoice_sends_no_transcript_that_does_not_match_the_segment(cosyvoice, tmp_path):
    folder, profile = speaker_folder(tmp_path / "speaker", covers_all_speech=False)
    tone_wav(folder / "trimmed.wav", seconds=31)  # over CosyVoice's 30 s: the segment goes instead

    CosyVoice().synthesize("Hello.", folder, profile, tmp_path / "out.wav", quiet)

    assert cosyvoice.requests[0]["endpoint"] == "/inference_cross_lingual"
    assert cosyvoice.requests[0]["prompt_wav"] == (folder / "best_segment.wav").read_bytes()


def test_cosyvoice_is_unavailable_when_the_server_is_down(settings, tmp_path):
    settings.COSYVOICE_URL = closed_port_url()
    folder, profile = speaker_folder(tmp_path / "speaker")

    with pytest.raises(EngineUnavailable, match="cannot be reached"):
        CosyVoice().synthesize("Hello.", folder, profile, tmp_path / "out.wav", quiet)


@pytest.mark.django_db
def test_generate_mode_answers_503_when_gpt_sovits_is_down(api, user, settings, media_root):
    settings.GPT_SOVITS_URL = closed_port_url()
    speaker = Speaker.objects.create(id="remote", name="remote", engine="gpt-sovits", owner=user,
                                     status=Speaker.Status.READY)
    speaker_folder(speaker.folder)

    response = api.post("/audio_clone", {"audio_id": "remote", "gen_audio_id": "g1", "generate_text": "你好"})

    assert response.status_code == 503, response.json()
    assert response.json()["status"] == "error"
    assert "cannot be reached" in response.json()["message"]


@pytest.mark.django_db
def test_generate_mode_speaks_through_gpt_sovits(api, user, gpt_sovits, media_root):
    speaker = Speaker.objects.create(id="remote", name="remote", engine="gpt-sovits", owner=user,
                                     status=Speaker.Status.READY)
    _, profile = speaker_folder(speaker.folder)
    speaker.profile = profile
    speaker.save()

    response = api.post("/audio_clone", {"audio_id": "remote", "gen_audio_id": "g1", "generate_text": "你好"})

    assert response.status_code == 200, response.json()
    assert response.json()["cloned_audio_path"].endswith("_g1.wav")
    assert gpt_sovits.requests[0]["ref_audio_path"].endswith("voices/speakers/remote/best_segment.wav")


def silent_wav(samples: int, rate: int) -> bytes:
    import io

    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(samples, np.int16), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.mark.parametrize(("engine", "body", "content_type", "reason"), [
    (GPTSoVITS, b'{"message": "tts failed"}', "application/json", "not a WAV file: {\"message\": \"tts failed\"}"),
    (GPTSoVITS, b"RIFF" + b"\0" * 40, "audio/wav", "not a WAV file"),
    (GPTSoVITS, silent_wav(0, 32000), "audio/wav", "0.00 s of audio"),
    (CosyVoice, b"<html><body>Internal error</body></html>", "text/html", "text/html instead of audio"),
    (CosyVoice, b"\0" * 16, "application/octet-stream", "0.00 s of audio"),
    # What GPT-SoVITS answers when its synthesis fails: one second of zeros, HTTP 200.
    (GPTSoVITS, silent_wav(16000, 16000), "audio/wav", "1.00 s of silence"),
    (CosyVoice, b"\0\0" * 22050, "application/octet-stream", "1.00 s of silence"),
], ids=["json", "damaged-wav", "empty-wav", "html", "16-bytes", "silent-wav", "silent-pcm"])
def test_an_answer_that_is_no_speech_is_the_servers_fault(settings, tmp_path, engine, body, content_type, reason):
    from voices.tests.standins.clone_servers import _Handler

    class Broken(_Handler):
        def do_POST(self):
            self._body()
            self._answer(200, body, content_type)

        do_GET = do_POST  # CosyVoice's routes are GET

    folder, profile = speaker_folder(tmp_path / "speaker")
    with StandInServer(Broken) as server:
        settings.GPT_SOVITS_URL = settings.COSYVOICE_URL = server.url
        with pytest.raises(VoiceError) as refused:
            engine().synthesize("hello there", folder, profile, tmp_path / "out.wav", quiet)

    assert refused.value.http_status == 502
    assert reason in str(refused.value)
    assert not (tmp_path / "out.wav").exists()


def test_a_server_that_accepts_but_is_busy_speaking_counts_as_up(monkeypatch):
    """GPT-SoVITS's api_v2 answers nothing while it speaks another job's text."""
    from voices.engines import remote

    monkeypatch.setattr(remote, "CONNECT_TIMEOUT_S", 0.3)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()  # connections complete, nothing ever answers

        remote.check_reachable(f"http://127.0.0.1:{busy.getsockname()[1]}", "gpt-sovits")

    with pytest.raises(EngineUnavailable, match="cannot be reached"):
        remote.check_reachable(closed_port_url(), "gpt-sovits")


@pytest.mark.parametrize("with_length", [True, False])
def test_a_server_that_trickles_its_answer_is_cut_off_at_the_time_limit(settings, tmp_path, with_length):
    import time

    from voices.tests.standins.clone_servers import _Handler

    class Trickling(_Handler):
        protocol_version = "HTTP/1.0"

        def do_POST(self):
            self._body()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if with_length:
                self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100):  # 2 bytes every 0.1 s: each read is quick, the answer never ends
                    self.wfile.write(b"\0\0")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass

        do_GET = do_POST  # CosyVoice's routes are GET

    folder, profile = speaker_folder(tmp_path / "speaker")
    settings.VOICE_SERVER_TIMEOUT_S = 1
    with StandInServer(Trickling) as server:
        settings.COSYVOICE_URL = server.url
        started = time.monotonic()
        with pytest.raises(EngineUnavailable, match="did not answer within 1 s"):
            CosyVoice().synthesize("hello there", folder, profile, tmp_path / "out.wav", quiet)
        elapsed = time.monotonic() - started

    assert elapsed < 4  # the whole answer would take 10 s
