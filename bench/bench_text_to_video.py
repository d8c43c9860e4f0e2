"""Text → finished video with the built-in engines: wall time per stage and peak memory (prints figures).

    python bench/bench_text_to_video.py [--video V] [--voice W] [--text T]

Trains a built-in avatar on the reference video (default epochs) and clones the built-in voice from
the recording, then times what /video_generation does for one text: speech in the cloned voice, then
the talking-head render to a browser-playable MP4. Target (issue 9): ≤ 5 s wall for 10 s of speech.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatar_site.settings")

import django  # noqa: E402

django.setup()

from silent_progress import SilentProgress  # noqa: E402

from avatar_site.lib.media import probe, to_wav  # noqa: E402
from training.engines.base import RenderJob, TrainingJob  # noqa: E402
from training.engines.builtin import BuiltinTalkingHead  # noqa: E402
from voices.engines.builtin import BuiltinVoice  # noqa: E402

DATA = Path(os.environ.get("AVATAR_TEST_MEDIA", ROOT.parent / "shared" / "data"))
TEXT = ("Good morning, and welcome to our small demonstration. The avatar you are watching learned this "
        "face from a short video, and this voice from a few seconds of speech.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DATA / "video_en_female_aoc_sadtalker.mp4")
    parser.add_argument("--voice", type=Path, default=DATA / "speech_en_librispeech_1995-1837-0001_wenet.wav")
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_t2v_"))
    avatar_dir, speaker_dir = work / "avatar", work / "speaker"
    avatar_dir.mkdir()
    speaker_dir.mkdir()
    engine, voice = BuiltinTalkingHead(), BuiltinVoice()

    started = time.perf_counter()
    manifest = engine.train(TrainingJob("bench", args.video, avatar_dir, args.epochs), SilentProgress())
    training = time.perf_counter() - started
    reference = to_wav(args.voice, speaker_dir / "reference.wav")
    original = to_wav(args.voice, speaker_dir / "reference_original.wav", rate=44100)
    started = time.perf_counter()
    profile = voice.extract(reference, original, speaker_dir, SilentProgress())
    cloning = time.perf_counter() - started

    started = time.perf_counter()
    speech = work / "speech.wav"
    voice.synthesize(args.text, speaker_dir, profile, speech, SilentProgress())
    tts = time.perf_counter() - started
    (work / "render").mkdir()
    started = time.perf_counter()
    output = work / "out.mp4"
    engine.render(RenderJob(avatar_dir, manifest, speech, output, work / "render"), SilentProgress())
    render = time.perf_counter() - started

    seconds = probe(output).duration
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"reference video {args.video.name}, voice {args.voice.name}, {os.cpu_count()} cores")
    print(f"training ({args.epochs} epochs): {training:.1f} s; voice cloning: {cloning:.1f} s")
    print(f"{'speech':>8} {'tts s':>7} {'render s':>9} {'total s':>8} {'x real time':>12} {'peak MB':>8}")
    print(f"{seconds:8.1f} {tts:7.2f} {render:9.2f} {tts + render:8.2f} {seconds / (tts + render):12.1f} {peak_mb:8.0f}")


if __name__ == "__main__":
    main()
