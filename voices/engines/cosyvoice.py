"""CosyVoice zero-shot cloning through its FastAPI server.

``/inference_zero_shot`` when the prompt's transcript is known; without one,
``/inference_cross_lingual``, which clones from the audio alone (the zero-shot endpoint
requires ``prompt_text``, and FastAPI counts an empty form field as missing: 422).
The form goes as GET, as upstream's ``runtime/python/fastapi/client.py`` sends it (its server
registers GET, later revisions GET and POST); a server that answers 405 gets it again as POST
(derived servers that register POST only).
The server answers raw 16-bit mono PCM with no header, at the model's rate (22050 Hz for
CosyVoice 1, 24000 Hz for CosyVoice 2: ``COSYVOICE_SAMPLE_RATE``); we add the WAV header.
With ``COSYVOICE_LANGUAGE_TAGS``, cross-lingual text is led by CosyVoice 1's language tag
(``<|en|>``, ``<|zh|>``, as in upstream's example). Off by default: upstream's frontend then skips
its text normalisation and sentence splitting (it takes ``<|…|>`` for markup), and CosyVoice 2's
tokenizer has no such tags.
"""

from __future__ import annotations

import wave
from collections import Counter
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from voices.engines import remote
from voices.engines.base import wav_seconds
from voices.engines.text_frontend import language_runs

MAX_PROMPT_SECONDS = 30.0


def language_tagged(text: str) -> str:
    """The text led by the tag of the language most of it is in (one tag: the model speaks one
    target language per request)."""
    if not settings.COSYVOICE_LANGUAGE_TAGS:
        return text
    counts = Counter()
    for run in language_runs(text):
        counts[run.language] += len(run.text)
    return f"<|{counts.most_common(1)[0][0] if counts else 'en'}|>{text}"


class CosyVoice(remote.RemoteVoice):
    name = "cosyvoice"
    url_setting = "COSYVOICE_URL"

    def synthesize(self, text: str, speaker_dir: Path, profile: dict, output_wav: Path, progress) -> None:
        # Zero-shot cloning follows the prompt transcript closely: with a transcript, send the whole
        # trimmed reference it describes (CosyVoice takes up to 30 s); without, the best segment.
        prompt_text = profile.get("prompt_text", "")
        prompt_wav = speaker_dir / "trimmed.wav"
        if not prompt_text or wav_seconds(prompt_wav) > MAX_PROMPT_SECONDS:
            prompt_wav = speaker_dir / profile["best_segment"]["file"]
            prompt_text = prompt_text if profile["best_segment"].get("covers_all_speech") else ""
        progress(10, _("Asking CosyVoice to speak"))
        if prompt_text:
            endpoint, form = "/inference_zero_shot", {"tts_text": text, "prompt_text": prompt_text}
        else:
            endpoint, form = "/inference_cross_lingual", {"tts_text": language_tagged(text)}
        answer = remote.send(
            self.url + endpoint, self.name, settings.VOICE_SERVER_TIMEOUT_S, methods=("GET", "POST"),
            data=form, files={"prompt_wav": ("prompt.wav", prompt_wav.read_bytes(), "audio/wav")},
        )
        # Raw PCM comes with no content type (or octet-stream); text or JSON is an error page.
        if answer.content_type.startswith(("text/", "application/json")):
            raise remote.bad_answer(self.name, f"{answer.content_type} instead of audio", answer)
        pcm = answer.content[: len(answer.content) // 2 * 2]
        remote.check_speech(np.frombuffer(pcm, "<i2") / 32768.0, settings.COSYVOICE_SAMPLE_RATE, self.name)
        with wave.open(str(output_wav), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(settings.COSYVOICE_SAMPLE_RATE)
            wav.writeframes(pcm)
        progress(100, _("Speech received"))
