"""Time each stage of one voice-chat turn for a 5-second spoken question, as a table.

    python bench/bench_chat.py [--recording FILE] [--seconds 5] [--avatar ID --speaker ID --gpu GPU0]

ASR runs every engine of ASR_ENGINES that is usable here (cold: first call, loads the model;
warm: second call), the LLM every usable engine of LLM_ENGINES (needs ZHIPUAI_API_KEY or
LLM_OPENAI_BASE_URL); speech and video run only with an existing --avatar and --speaker.
Unusable engines are listed with the reason.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatar_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from silent_progress import SilentProgress  # noqa: E402

from avatar_site.lib.engines import load_engine  # noqa: E402
from avatar_site.lib.errors import ApiError  # noqa: E402
from avatar_site.lib.media import run_ffmpeg  # noqa: E402
from monitoring.errors import JobFailed  # noqa: E402

SHARED_MEDIA = Path(os.environ.get("AVATAR_TEST_MEDIA", ROOT.parent / "shared" / "data"))
DEFAULT_RECORDING = SHARED_MEDIA / "speech_en_librispeech_1995-1837-0001_wenet.wav"


def timed(call):
    started = time.monotonic()
    value = call()
    return time.monotonic() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recording", type=Path, default=DEFAULT_RECORDING)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--avatar", help="an Avatar id, to time speech and video too")
    parser.add_argument("--speaker", help="a Speaker id (audio_id), with --avatar")
    parser.add_argument("--gpu", default=settings.GPU_QUEUES[0])
    args = parser.parse_args()

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        question = Path(folder) / "question.wav"
        run_ffmpeg(["-i", str(args.recording), "-t", str(args.seconds), "-vn", "-ac", "1", "-ar", "16000",
                    "-c:a", "pcm_s16le", str(question)])
        transcript = "Please introduce yourself in one sentence."
        for name in settings.ASR_ENGINES:
            try:
                engine = load_engine(settings.ASR_ENGINES, name, "speech recognition")
            except ApiError as exc:
                rows.append(("asr", name, "-", f"unavailable: {exc.detail}"))
                continue
            cold, text = timed(lambda: engine.transcribe(question))  # noqa: B023 (called at once)
            warm, text = timed(lambda: engine.transcribe(question))  # noqa: B023
            rows.append(("asr", name, f"{warm:.2f}", f"cold {cold:.2f} s, RTF {warm / args.seconds:.2f}: {text[:60]!r}"))
            transcript = text or transcript

        messages = [{"role": "system", "content": settings.CHAT_SYSTEM_PROMPT}, {"role": "user", "content": transcript}]
        answer = "Hello, I am your digital assistant."
        for name in settings.LLM_ENGINES:
            try:
                engine = load_engine(settings.LLM_ENGINES, name, "language model")
                seconds, text = timed(lambda: engine.reply(messages))  # noqa: B023 (called at once)
            except (ApiError, JobFailed) as exc:
                rows.append(("llm", name, "-", f"unavailable: {getattr(exc, 'detail', exc)}"))
                continue
            rows.append(("llm", name, f"{seconds:.2f}", repr(text[:60])))
            answer = text

        if args.avatar and args.speaker:
            from generation.renderer import render_speech
            from training.models import Avatar
            from voices.models import Speaker

            timings: dict[str, float] = {}
            render_speech(Avatar.objects.get(pk=args.avatar), Speaker.objects.get(pk=args.speaker), answer,
                          args.gpu, Path(folder) / "answer.mp4", SilentProgress(), timings)
            for stage in ("tts", "render"):
                rows.append((stage, settings.VOICE_ENGINE if stage == "tts" else args.avatar,
                             f"{timings.get(stage, 0):.2f}", f"answer of {len(answer)} characters"))
        else:
            rows.append(("tts+render", "-", "-", "skipped: give --avatar and --speaker"))

    widths = [max(len(row[i]) for row in rows + [("stage", "engine", "seconds", "note")]) for i in range(3)]
    print(f"{'stage':<{widths[0]}}  {'engine':<{widths[1]}}  {'seconds':>{widths[2]}}  note")
    for stage, engine, seconds, note in rows:
        print(f"{stage:<{widths[0]}}  {engine:<{widths[1]}}  {seconds:>{widths[2]}}  {note}")


if __name__ == "__main__":
    main()
