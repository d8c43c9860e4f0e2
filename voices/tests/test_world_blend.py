"""The conversion's blend with the speaker's real frames (pure numpy, no audio)."""

from __future__ import annotations

import numpy as np

from voices.engines.world_voice import CODED_DIMS, LOW_COEFFICIENTS, Conversion, SpeakerStats


def _stats() -> SpeakerStats:
    return SpeakerStats(5.0, 0.2, np.zeros(CODED_DIMS), np.ones(CODED_DIMS))


def test_it_borrows_detail_from_the_real_frame_with_the_nearest_formant_shape():
    query = np.zeros((1, CODED_DIMS))
    same_shape = np.zeros(CODED_DIMS)
    same_shape[LOW_COEFFICIENTS:] = 1.0  # the same vowel, different detail everywhere above
    same_detail = np.zeros(CODED_DIMS)
    same_detail[1:LOW_COEFFICIENTS] = 1.5  # another vowel, identical detail
    # Unweighted, same_detail is nearer: 7 × 1.5² = 15.75 against 32 × 1² = 32.
    conversion = Conversion(_stats(), _stats(), 1.0, np.stack([same_detail, same_shape]), blend=1.0, neighbours=1)

    blended = conversion._blend(query)

    assert np.allclose(blended[0, LOW_COEFFICIENTS:], 1.0)  # the detail came from same_shape
