"""Interfaces of the chat engines: speech recognition and the language model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path


class SpeechRecognizer(ABC):
    name = ""

    def check_available(self) -> None:
        """Raise avatar_site.lib.engines.EngineUnavailable when it cannot run here."""

    @abstractmethod
    def transcribe(self, wav_16k_mono: Path) -> str:
        """The words spoken in the recording."""

    @abstractmethod
    def spoken_language(self) -> str | None:
        """The language (a code: "en", "zh") it hears speech in; None when it detects any language.
        The chat page tells users, who would otherwise speak Mandarin to an English recogniser."""


class LanguageModel(ABC):
    name = ""

    def check_available(self) -> None:
        """Raise avatar_site.lib.engines.EngineUnavailable when it cannot run here (no key, no server)."""

    @abstractmethod
    def reply(self, messages: list[dict]) -> str:
        """The assistant's answer to OpenAI-style ``messages`` (system, history, question)."""
