"""The builtin voice engine: espeak-ng speaks, WORLD conversion makes it sound like the speaker.

Runs on a CPU with no downloaded weights (resemblyzer ships its small model). It is a signal-
processing clone: it carries the speaker's pitch, timbre and vocal-tract length, not their accent
or rhythm. For a neural clone, use the gpt-sovits or cosyvoice engines.

This module stays light: web processes load it to check requests, while WORLD, scipy, webrtcvad
and resemblyzer (``world_clone.py``, ~140 MB) load only in the worker that clones or speaks.
"""

from __future__ import annotations

from pathlib import Path

from voices.engines import espeak
from voices.engines.base import VoiceEngine


class BuiltinVoice(VoiceEngine):
    name = "builtin"
    blend = 0.85  # share of the nearest real frames (formant shape: LOW_BLEND); bench/bench_voice.py measures
    neighbours = 2

    def check_available(self) -> None:
        espeak.binary()

    def extract(self, reference_wav: Path, original_wav: Path, speaker_dir: Path, progress) -> dict:
        from voices.engines.world_clone import WorldClone

        profile = WorldClone(self.blend, self.neighbours).extract(reference_wav, original_wav, speaker_dir, progress)
        return {"engine": self.name, **profile}

    def synthesize(self, text: str, speaker_dir: Path, profile: dict, output_wav: Path, progress) -> None:
        from voices.engines.world_clone import WorldClone

        WorldClone(self.blend, self.neighbours).synthesize(text, speaker_dir, profile, output_wav, progress)
