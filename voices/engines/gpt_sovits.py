"""GPT-SoVITS through its ``api_v2.py`` server (``POST /tts``); runs wherever that server runs.

The reference is given as a path on the server's disk, so the server must see MEDIA_ROOT (same
machine or a shared mount; ``GPT_SOVITS_MEDIA_ROOT`` names the mount point on its side). It must
be 3–10 s long: the builtin extraction writes such a ``best_segment.wav``.
"""

from __future__ import annotations

import io
from pathlib import Path

import soundfile
from django.conf import settings
from django.utils.translation import gettext as _

from voices.engines import remote
from voices.engines.base import VoiceError, wav_seconds


class GPTSoVITS(remote.RemoteVoice):
    name = "gpt-sovits"
    url_setting = "GPT_SOVITS_URL"

    def synthesize(self, text: str, speaker_dir: Path, profile: dict, output_wav: Path, progress) -> None:

        segment = speaker_dir / profile["best_segment"]["file"]
        if not 3.0 <= wav_seconds(segment) <= 10.0:
            raise VoiceError(_("The speaker's reference segment is not 3–10 s long; clone the voice again."))
        # The transcript describes the whole reference; it only fits the segment when that is all the speech.
        prompt_text = profile.get("prompt_text", "") if profile["best_segment"].get("covers_all_speech") else ""
        payload = {
            "text": text,
            "text_lang": remote.text_language(text),
            "ref_audio_path": self._server_path(segment),
            "prompt_text": prompt_text,
            "prompt_lang": remote.text_language(prompt_text or text),
            "media_type": "wav",
            "streaming_mode": False,
            "text_split_method": "cut5",
            "batch_size": 1,
            "speed_factor": 1.0,
        }
        progress(10, _("Asking GPT-SoVITS to speak"))
        answer = remote.send(self.url + "/tts", self.name, settings.VOICE_SERVER_TIMEOUT_S, json=payload)
        try:
            samples, rate = soundfile.read(io.BytesIO(answer.content), dtype="float32")
        except RuntimeError:  # soundfile.LibsndfileError: not audio it can read
            raise remote.bad_answer(self.name, _("something that is not a WAV file"), answer) from None
        remote.check_speech(samples, rate, self.name)
        output_wav.write_bytes(answer.content)
        progress(100, _("Speech received"))

    @staticmethod
    def _server_path(path: Path) -> str:
        mount = settings.GPT_SOVITS_MEDIA_ROOT
        if not mount:
            return str(path.resolve())
        return str(Path(mount) / path.resolve().relative_to(Path(settings.MEDIA_ROOT).resolve()))
