"""The base voice: espeak-ng's failures are the engine's, with espeak-ng's own reason."""

from __future__ import annotations

import pytest

from avatar_site.lib.engines import EngineUnavailable
from voices.engines import espeak


def test_it_speaks_english_and_pinyin():
    assert len(espeak.say("hello there", "en")) > 8000
    assert len(espeak.say("ni3 hao3", "zh")) > 8000


def test_an_espeak_that_fails_is_a_clear_unavailable_engine(monkeypatch, tmp_path):
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\necho 'voice not installed' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(espeak, "binary", lambda: str(broken))

    with pytest.raises(EngineUnavailable, match="voice cmn-latn-pinyin: voice not installed"):
        espeak.say("ni3 hao3", "zh")
