"""The builtin engine on real speech (slow: espeak-ng, WORLD and resemblyzer run for real)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import soundfile

from avatar_site.lib.media import to_wav
from tests.media import shared_media, silent_wav, tone_wav
from voices.cloning import VoiceError
from voices.engines import espeak
from voices.engines.builtin import BuiltinVoice
from voices.engines.world_clone import ENGLISH_RATES
from voices.engines.world_voice import Conversion, cosine, embedding, load_mono

pytestmark = pytest.mark.slow

SPEAKER = "speech_en_librispeech_1995-1837-0001_wenet.wav"


def quiet(percent, message=""):
    pass


def prepare(source, folder):
    folder.mkdir(parents=True, exist_ok=True)
    to_wav(source, folder / "reference.wav", rate=16000, channels=1)
    to_wav(source, folder / "reference_original.wav", rate=44100, channels=1)
    return folder / "reference.wav", folder / "reference_original.wav"


@pytest.fixture(scope="module")
def cloned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speaker")
    reference, original = prepare(shared_media(SPEAKER), folder)
    profile = BuiltinVoice().extract(reference, original, folder, quiet)
    return folder, profile


def seconds(path):
    info = soundfile.info(str(path))
    return info.frames / info.samplerate


def test_it_extracts_embedding_pitch_envelope_and_best_segment(cloned):
    folder, profile = cloned

    assert len(profile["embedding"]) == 256
    assert np.load(folder / "embedding.npy").shape == (256,)
    assert 70 < profile["f0"]["mean_hz"] < 400
    assert 0.03 <= profile["f0"]["log_std"] < 1
    assert len(profile["envelope"]["coded_mean"]) == 40
    assert 3 <= seconds(folder / "best_segment.wav") <= 10
    assert 3 <= profile["best_segment"]["seconds"] <= 10
    assert set(profile["base_voices"]) == {"en", "zh"}
    assert profile["base_voices"]["en"]["words_per_minute"] in ENGLISH_RATES
    assert 3 < profile["speech_seconds"] <= 8.8


def test_it_speaks_english(cloned, tmp_path):
    folder, profile = cloned
    output = tmp_path / "en.wav"

    BuiltinVoice().synthesize("The weather is lovely today, so we will walk to the park.", folder, profile, output, quiet)

    assert soundfile.info(str(output)).subtype == "PCM_16"
    assert 2 < seconds(output) < 8
    assert np.sqrt(np.mean(load_mono(output) ** 2)) > 0.02


def test_it_speaks_with_a_profile_made_before_rate_calibration(cloned, tmp_path):
    folder, profile = cloned
    older = {**profile, "base_voices": {
        language: {key: value for key, value in base.items() if key != "words_per_minute"}
        for language, base in profile["base_voices"].items()
    }}
    output = tmp_path / "old.wav"

    BuiltinVoice().synthesize("The weather is lovely today.", folder, older, output, quiet)

    assert 1 < seconds(output) < 5


def test_a_slower_rate_speaks_longer():
    text = "The weather is lovely today, so we will walk to the park."

    assert len(espeak.say(text, "en", words_per_minute=120)) > 1.15 * len(espeak.say(text, "en"))


def test_it_speaks_chinese_with_numbers(cloned, tmp_path):
    folder, profile = cloned
    output = tmp_path / "zh.wav"

    BuiltinVoice().synthesize("今天是2024年，我们去公园散步。", folder, profile, output, quiet)

    assert 2 < seconds(output) < 8
    assert np.sqrt(np.mean(load_mono(output) ** 2)) > 0.02


def test_it_speaks_mixed_chinese_and_english(cloned, tmp_path):
    folder, profile = cloned
    chinese, mixed = tmp_path / "zh.wav", tmp_path / "mixed.wav"

    BuiltinVoice().synthesize("我喜欢喝咖啡。", folder, profile, chinese, quiet)
    BuiltinVoice().synthesize("我喜欢喝咖啡, especially in the morning with my friends.", folder, profile, mixed, quiet)

    assert seconds(mixed) > seconds(chinese) + 1.0
    assert np.sqrt(np.mean(load_mono(mixed) ** 2)) > 0.02


def test_it_sounds_more_like_the_speaker_than_raw_espeak(cloned, tmp_path):
    folder, profile = cloned
    text = "The weather is lovely today, so we will walk to the park after lunch and meet our friends."
    output = tmp_path / "converted.wav"
    target = np.array(profile["embedding"])

    BuiltinVoice().synthesize(text, folder, profile, output, quiet)

    converted = cosine(embedding(load_mono(output)), target)
    raw = cosine(embedding(espeak.say(text, "en")), target)
    assert converted > raw + 0.05, (converted, raw)


def test_it_refuses_silence(tmp_path):
    reference = silent_wav(tmp_path / "silence.wav", seconds=5)

    with pytest.raises(VoiceError, match="no speech"):
        BuiltinVoice().extract(reference, reference, tmp_path, quiet)


def test_it_refuses_a_steady_tone_with_no_voiced_speech(tmp_path):
    """The voice activity detector hears a tone; WORLD finds (almost) no voiced frames to convert toward."""
    reference = tone_wav(tmp_path / "tone.wav", seconds=4)

    with pytest.raises(VoiceError, match="voiced speech"):
        BuiltinVoice().extract(reference, reference, tmp_path, quiet)


def test_blending_toward_a_bank_of_fewer_frames_than_neighbours_works():
    frames = np.random.default_rng(0).normal(size=(5, 30)).astype(np.float32)
    stats = SimpleNamespace(coded_std=np.ones(30, np.float32))  # all that blending reads of the statistics
    conversion = Conversion(stats, stats, 1.0, frames[:1], blend=0.85, neighbours=2)

    blended = conversion._blend(frames)

    assert blended.shape == frames.shape and np.isfinite(blended).all()


def test_it_refuses_less_than_three_seconds_of_speech(tmp_path):
    samples = load_mono(shared_media(SPEAKER))[: int(1.8 * 16000)]
    padded = np.concatenate([np.zeros(16000 * 2), samples, np.zeros(16000 * 2)])
    soundfile.write(str(tmp_path / "short.wav"), padded, 16000, subtype="PCM_16")

    with pytest.raises(VoiceError, match="of speech"):
        BuiltinVoice().extract(tmp_path / "short.wav", tmp_path / "short.wav", tmp_path, quiet)


def test_it_refuses_a_clipped_recording(tmp_path):
    samples = load_mono(shared_media(SPEAKER))
    clipped = np.clip(samples * 30, -1, 1)
    soundfile.write(str(tmp_path / "loud.wav"), clipped, 16000, subtype="PCM_16")

    with pytest.raises(VoiceError, match="clipped"):
        BuiltinVoice().extract(tmp_path / "loud.wav", tmp_path / "loud.wav", tmp_path, quiet)
