"""The 3–10 s reference segment GPT-SoVITS and CosyVoice take as their prompt."""

from __future__ import annotations

import pytest

from voices.engines.world_clone import SEGMENT_MAX_SECONDS, SEGMENT_MIN_SECONDS, _best_segment


@pytest.mark.parametrize(("regions", "total"), [
    ([(0.5, 2.1), (11.1, 12.7), (21.7, 23.3)], 24.0),  # short phrases 9 s apart
    ([(0.2, 1.0), (10.0, 12.2)], 12.3),  # the longest phrase at the very end of the file
    ([(0.0, 14.0)], 14.0),  # one long stretch
    ([(1.0, 3.0), (3.5, 6.0), (6.4, 9.0), (9.2, 12.0)], 12.5),
])
def test_the_segment_always_lasts_3_to_10_seconds(regions, total):
    start, end = _best_segment(regions, total)

    assert 0 <= start < end <= total
    assert SEGMENT_MIN_SECONDS <= end - start <= SEGMENT_MAX_SECONDS


def test_phrases_too_far_apart_give_the_longest_one_padded_to_3_seconds():
    start, end = _best_segment([(0.5, 1.5), (11.0, 13.0), (22.0, 23.0)], 24.0)

    assert start <= 11.0 and end >= 13.0
    assert end - start == pytest.approx(SEGMENT_MIN_SECONDS)
