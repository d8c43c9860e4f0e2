"""Engine doubles for tests of the platform around the engines (never used by product code).

They do real, small work with ffmpeg so the files they produce are genuine media.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import soundfile

from avatar_site.lib.media import probe, run_ffmpeg
from chat.engines.base import LanguageModel, SpeechRecognizer
from training.engines.base import EngineError, RenderJob, TalkingHeadEngine, TrainingJob
from voices.engines.base import VoiceEngine


class ToneVoice(VoiceEngine):
    """'Clones' a voice as its loudness and speaks text as a tone, 0.08 s per character."""

    name = "tone"

    def extract(self, reference_wav, original_wav, speaker_dir, progress):
        samples, _ = soundfile.read(str(reference_wav), dtype="float32")
        progress(50, "measuring")
        return {"rms": float(np.sqrt(np.mean(samples**2)))}

    def synthesize(self, text, speaker_dir, profile, output_wav, progress):
        rate = 16000
        t = np.arange(int(rate * max(0.5, 0.08 * len(text)))) / rate
        soundfile.write(str(output_wav), 0.3 * np.sin(2 * math.pi * 200 * t), rate, format="WAV")


class StillTalkingHead(TalkingHeadEngine):
    """Keeps the first frame of the reference video and shows it for as long as the audio lasts."""

    name = "still"
    allowed_params = {"lr": float, "batch_size": int, "sleep": float}
    archive_files = ("still.png",)

    def train(self, job: TrainingJob, progress):
        info = probe(job.source_video)
        if not info.has_audio:
            raise EngineError("The reference video has no audio track.")
        run_ffmpeg(["-i", str(job.source_video), "-frames:v", "1", str(job.avatar_dir / "still.png")])
        for epoch in range(job.epochs):
            time.sleep(job.params.get("sleep", 0))
            progress(100 * (epoch + 1) / job.epochs, f"epoch {epoch + 1}/{job.epochs}")
        return {"frames": 1, "fps": 25, "losses": [1.0 / (e + 1) for e in range(job.epochs)]}

    def render(self, job: RenderJob, progress):
        still = job.avatar_dir / "still.png"
        run_ffmpeg([
            "-loop", "1", "-framerate", "25", "-i", str(still), "-i", str(job.audio_wav),
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
            "-c:a", "aac", "-shortest", "-movflags", "+faststart", "-f", "mp4", str(job.output_mp4),
        ])
        progress(100, "rendered")


class TextFileRecognizer(SpeechRecognizer):
    """Hears 'hello there' in every recording."""

    name = "text"

    def spoken_language(self) -> str:
        return "en"

    def transcribe(self, wav_16k_mono: Path) -> str:
        return "hello there"


class EchoModel(LanguageModel):
    """Answers with what it was asked and how many messages it saw."""

    name = "echo"

    def reply(self, messages):
        return json.dumps({"heard": messages[-1]["content"], "messages": len(messages)})


def unremovable_files(monkeypatch) -> None:
    """From now on, existing files and folders cannot be removed, as on a read-only or
    foreign-owned media disk (the tests run as root, for whom permission bits do not hold)."""
    import shutil
    from pathlib import Path

    remove = shutil.rmtree

    def refuse(path, *args, **kwargs):
        if Path(path).exists():
            raise PermissionError(13, "Permission denied", str(path))
        return remove(path, *args, **kwargs)

    monkeypatch.setattr("avatar_site.lib.storage.shutil.rmtree", refuse)
