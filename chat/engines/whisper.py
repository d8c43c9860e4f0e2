"""Speech recognition with faster-whisper (CTranslate2) from a model folder on this machine.

Nothing is downloaded: WHISPER_MODEL_PATH must name a converted model folder (``model.bin``,
``config.json``, tokenizer), e.g. made with ``ct2-transformers-converter`` or copied from a
machine with internet access.
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import EngineUnavailable
from chat.engines.base import SpeechRecognizer

# Whisper writes Mandarin in traditional characters about as often as simplified ones; a prompt
# in simplified characters steers it to the script the rest of the platform uses.
DEFAULT_PROMPTS = {"zh": "以下是普通话的句子，使用简体中文。"}

_models: dict[tuple[str, str, str], object] = {}
_models_lock = threading.Lock()


LANGUAGE_NAMES = {"english": "en", "chinese": "zh", "mandarin": "zh"}


def whisper_language(setting: str) -> str | None:
    """Whisper's code for a language setting: "en-us" and "English" (which pocketsphinx takes) are "en"."""
    language = setting.strip().lower()
    if not language:
        return None
    return LANGUAGE_NAMES.get(language) or language.replace("_", "-").split("-")[0]


class Whisper(SpeechRecognizer):
    name = "whisper"

    def check_available(self) -> None:
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            raise EngineUnavailable(_(
                "The whisper speech recogniser needs the faster-whisper package (pip install faster-whisper) "
                "and a CTranslate2 Whisper model folder in WHISPER_MODEL_PATH."
            )) from None
        folder = self.model_folder()
        if folder is None:
            raise EngineUnavailable(_(
                "The whisper speech recogniser needs WHISPER_MODEL_PATH: a local CTranslate2 Whisper model folder "
                "(with model.bin), e.g. converted with ct2-transformers-converter."
            ))
        if not (folder / "model.bin").is_file():
            raise EngineUnavailable(_(
                "WHISPER_MODEL_PATH=%(folder)s is not a CTranslate2 Whisper model folder (no model.bin in it)."
            ) % {"folder": folder})
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        language = whisper_language(settings.WHISPER_LANGUAGE)
        if language is not None and language not in _LANGUAGE_CODES:
            raise EngineUnavailable(_(
                "WHISPER_LANGUAGE (or ASR_LANGUAGE) %(language)r is not a language Whisper knows; "
                "give a code such as en or zh, or leave it empty to detect the language."
            ) % {"language": settings.WHISPER_LANGUAGE})

    def spoken_language(self) -> str | None:
        return whisper_language(settings.WHISPER_LANGUAGE)

    def model_folder(self) -> Path | None:
        raw = settings.WHISPER_MODEL_PATH.strip()
        return Path(raw).expanduser() if raw else None

    def transcribe(self, wav_16k_mono: Path) -> str:
        language = whisper_language(settings.WHISPER_LANGUAGE)
        prompt = settings.WHISPER_INITIAL_PROMPT or DEFAULT_PROMPTS.get(language or "")
        segments, _info = self.model().transcribe(
            str(wav_16k_mono), language=language, initial_prompt=prompt, beam_size=5, vad_filter=True
        )
        pieces = [segment.text.strip() for segment in segments]
        # Chinese and Japanese are written without spaces between segments.
        joiner = "" if language in ("zh", "ja") else " "
        return joiner.join(piece for piece in pieces if piece)

    def model(self):
        from faster_whisper import WhisperModel

        key = (str(self.model_folder()), settings.WHISPER_DEVICE, settings.WHISPER_COMPUTE_TYPE)
        with _models_lock:
            if key not in _models:
                _models[key] = WhisperModel(key[0], device=key[1], compute_type=key[2], local_files_only=True)
            return _models[key]
