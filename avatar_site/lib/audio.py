"""Levels of decoded audio samples."""

from __future__ import annotations

import numpy as np


def loudest_dbfs(samples: np.ndarray, rate: int) -> float:
    """The RMS level of the loudest tenth of a second, in dB below full scale (-inf for silence):
    unlike the level of the whole recording, pauses do not pull it down, so quiet speech with long
    pauses still counts as speech."""
    window = max(1, rate // 10)
    frames = len(samples) // window
    if frames == 0:
        frames, window = 1, len(samples)
    if window == 0:
        return float("-inf")
    blocks = samples[: frames * window].reshape(frames, window).astype(np.float64)
    peak = float(np.sqrt(np.mean(np.square(blocks), axis=1)).max())
    return 20 * float(np.log10(peak)) if peak > 0 else float("-inf")
