"""Levels of decoded audio samples."""

from __future__ import annotations

import numpy as np

WINDOW_SECONDS = 0.1


def speech_level_dbfs(samples: np.ndarray, rate: int, seconds: float = 0.3) -> float:
    """The RMS level (dB below full scale) that the loudest ``seconds`` of the recording reach,
    in 0.1 s windows: -inf for silence. Unlike the whole recording's level, pauses do not pull it
    down (quiet speech with long pauses still counts); unlike the single loudest window, one click
    or pop does not pass for speech. Mono float samples in [-1, 1]; NaN counts as silence."""
    window = max(1, int(rate * WINDOW_SECONDS))
    frames = -(-len(samples) // window)  # the last, partial window counts too
    if frames == 0:
        return float("-inf")
    padded = np.zeros(frames * window, np.float64)
    padded[: len(samples)] = np.nan_to_num(np.asarray(samples, np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    levels = np.sort(np.sqrt(np.mean(np.square(padded.reshape(frames, window)), axis=1)))[::-1]
    level = float(levels[min(frames, max(1, round(seconds / WINDOW_SECONDS))) - 1])
    return 20 * float(np.log10(level)) if level > 0 else float("-inf")
