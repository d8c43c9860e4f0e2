"""/audio_clone with the real builtin engine on real speech (slow)."""

from __future__ import annotations

import pytest
import soundfile

from avatar_site.lib.media import to_wav
from tests.media import shared_media
from voices.models import Speaker

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_it_clones_and_speaks_with_the_builtin_engine(api, media_root):
    reference = media_root.parent / "inputs" / "jfk.wav"
    to_wav(shared_media("speech_en_jfk_whisper.flac"), reference, rate=44100, channels=2)

    cloned = api.post("/audio_clone", {
        "original_audio_path": str(reference), "audio_id": "jfk", "engine": "builtin",
        "prompt_text": "And so my fellow Americans, ask not what your country can do for you.",
    })
    spoken = api.post("/audio_clone", {"audio_id": "jfk", "gen_audio_id": "g1", "generate_text": "Hello, 你好, 2 friends."})

    assert cloned.status_code == 200, cloned.json()
    speaker = Speaker.objects.get(pk="jfk")
    assert speaker.status == Speaker.Status.READY
    assert speaker.profile["prompt_text"].startswith("And so my fellow Americans")
    assert len(speaker.profile["embedding"]) == 256
    assert (speaker.folder / "best_segment.wav").is_file()
    assert spoken.status_code == 200, spoken.json()
    output = media_root / spoken.json()["cloned_audio_path"].removeprefix("/media/")
    info = soundfile.info(str(output))
    assert info.subtype == "PCM_16"
    assert 1.0 < info.frames / info.samplerate < 6.0


def test_it_refuses_a_silent_reference_with_422(api, media_root):
    from tests.media import silent_wav

    reference = silent_wav(media_root.parent / "inputs" / "silence.wav", seconds=5)

    response = api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": "mute", "engine": "builtin"})

    assert response.status_code == 422, response.json()
    assert "no speech" in response.json()["message"]
    assert not Speaker.objects.exists()
