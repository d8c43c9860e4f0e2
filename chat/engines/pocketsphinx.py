"""Speech recognition with PocketSphinx 5 and the US-English model its wheel ships (fully offline)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile
from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import EngineUnavailable
from chat.engines.base import SpeechRecognizer
from monitoring.errors import JobFailed

SAMPLE_RATE = 16000
ENGLISH = {"en", "en-us", "english"}

# Loading the model takes ~0.5 s: one decoder per worker process, used by one job at a time.
_decoder = None
_decoder_lock = threading.Lock()


def _shared_decoder():
    global _decoder
    if _decoder is None:
        from pocketsphinx import Decoder

        _decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    return _decoder


class PocketSphinx(SpeechRecognizer):
    name = "pocketsphinx"

    def spoken_language(self) -> str:
        return "en"  # the only acoustic model its wheel ships

    def check_available(self) -> None:
        language = settings.ASR_LANGUAGE.strip().lower()
        if language not in ENGLISH:
            raise EngineUnavailable(_(
                "The pocketsphinx speech recogniser only understands English, but ASR_LANGUAGE is %(language)r; "
                "set ASR_ENGINE=whisper with WHISPER_MODEL_PATH for other languages."
            ) % {"language": language})
        try:
            import pocketsphinx  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailable(_("pocketsphinx is not installed (%(exc)s); pip install pocketsphinx==5.*")
                                    % {"exc": exc}) from None

    def transcribe(self, wav_16k_mono: Path) -> str:
        samples, rate = soundfile.read(str(wav_16k_mono), dtype="int16", always_2d=True)
        if rate != SAMPLE_RATE:
            raise JobFailed(_("pocketsphinx needs 16 kHz audio, the recording is %(rate)s Hz.") % {"rate": rate})
        pcm = np.ascontiguousarray(samples.mean(axis=1).astype(np.int16) if samples.shape[1] > 1 else samples[:, 0])
        with _decoder_lock:
            decoder = _shared_decoder()
            decoder.start_utt()
            decoder.process_raw(pcm.tobytes(), no_search=False, full_utt=True)
            decoder.end_utt()
            hypothesis = decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""
