import numpy as np

from voices.engines import espeak
from voices.engines.world_voice import cosine, embedding


def test_a_voice_gets_the_same_embedding_however_loud_it_was_recorded():
    """resemblyzer's preprocessing only raises quiet recordings; loud ones drifted (0.84 alike)."""
    speech = espeak.say("The weather is lovely today, so we will walk to the park after lunch.", "en")
    speech = speech / np.abs(speech).max()

    quiet, loud = embedding(0.05 * speech), embedding(0.9 * speech)

    assert cosine(quiet, loud) > 0.999
