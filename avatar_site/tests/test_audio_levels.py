"""avatar_site/lib/audio.py: the level of the loudest stretch of a recording."""

import numpy as np
import pytest

from avatar_site.lib.audio import speech_level_dbfs

RATE = 16000


def tone(seconds: float, level: float = 0.1) -> np.ndarray:
    return (level * np.sqrt(2) * np.sin(2 * np.pi * 200 * np.arange(int(RATE * seconds)) / RATE)).astype(np.float32)


def test_pauses_do_not_pull_the_level_of_speech_down():
    speech_with_pauses = np.concatenate([np.zeros(RATE * 9, np.float32), tone(1.0)])

    assert speech_level_dbfs(speech_with_pauses, RATE) == pytest.approx(-20, abs=0.5)


def test_one_click_is_not_speech():
    samples = np.zeros(RATE * 10, np.float32)
    samples[RATE * 5] = 0.99

    assert speech_level_dbfs(samples, RATE) == float("-inf")


@pytest.mark.parametrize("samples", [np.zeros(0, np.float32), np.zeros(1, np.float32), np.full(100, np.nan)])
def test_nothing_to_hear_is_minus_infinity(samples):
    assert speech_level_dbfs(samples, RATE) == float("-inf")


def test_a_short_sound_counts_in_full_even_in_the_last_partial_window():
    assert speech_level_dbfs(tone(0.05), RATE) > -30
