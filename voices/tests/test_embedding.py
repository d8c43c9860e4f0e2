import numpy as np

from avatar_site.lib.media import to_wav
from tests.media import shared_media
from voices.engines.world_voice import RATE, cosine, embedding, load_mono


def test_a_voice_gets_the_same_embedding_however_loud_it_was_recorded(tmp_path):
    """resemblyzer's preprocessing only raises quiet recordings; loud ones drifted (0.02 cosine)."""
    to_wav(shared_media("speech_en_jfk_whisper.flac"), tmp_path / "jfk.wav", rate=RATE, channels=1)
    speech = load_mono(tmp_path / "jfk.wav")
    speech = speech / np.abs(speech).max()

    quiet, loud = embedding(0.05 * speech), embedding(0.9 * speech)

    assert cosine(quiet, loud) > 0.999
