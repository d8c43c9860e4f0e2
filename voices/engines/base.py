"""The interface every voice engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import soundfile

from monitoring.errors import JobFailed


class VoiceError(JobFailed):
    """Bad reference or text: the message is for the user."""


def wav_seconds(path: Path) -> float:
    info = soundfile.info(str(path))
    return info.frames / float(info.samplerate)


class VoiceEngine(ABC):
    """Clones a voice from a reference recording and speaks text in it.

    ``extract`` receives the reference already normalised to 16 kHz mono WAV (plus the
    original-rate copy) and returns the profile to store with the Speaker. ``synthesize`` writes
    a WAV file. Both raise ``VoiceError`` with a user-facing message on bad input.
    """

    name = ""

    def check_available(self) -> None:
        """Raise avatar_site.lib.engines.EngineUnavailable when the engine cannot run here."""

    @abstractmethod
    def extract(self, reference_wav: Path, original_wav: Path, speaker_dir: Path, progress) -> dict: ...

    @abstractmethod
    def synthesize(self, text: str, speaker_dir: Path, profile: dict, output_wav: Path, progress) -> None: ...
