"""Benchmark of the built-in talking head: lip sync and speed on real footage (not a test; prints figures).

    python bench/bench_talking_head.py [--video V] [--speech S] [--epochs N]

Trains on the first 70 % of the reference video and renders:
- the held-out last 30 % of its own audio: LMD (mouth landmark distance, in inter-ocular units, after
  aligning heads) of the rendered mouth against the real held-out mouth, and of a closed still mouth;
- another speech recording with pauses: ROC AUC of the mouth opening for speech vs silence frames,
  and Pearson r between opening and loudness.
Mouths are measured by a separate MediaPipe pass, not by the engine's own tracks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatar_site.settings")

import django  # noqa: E402

django.setup()

import soundfile  # noqa: E402

from avatar_site.lib.media import ffmpeg_binary, probe  # noqa: E402
from training.engines.base import RenderJob, TrainingJob  # noqa: E402
from training.engines.builtin import BuiltinTalkingHead, faces  # noqa: E402

DATA = Path(os.environ.get("AVATAR_TEST_MEDIA", ROOT.parent.parent / "shared" / "data"))


class Quiet:
    def __call__(self, percent, message=None):
        pass

    def should_cancel(self):
        return False

    def log(self, line):
        pass


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def mouth_tracks(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 468, 2) landmarks and a tracked mask, from an independent MediaPipe pass."""
    info = probe(video)
    points, ok = [], []
    with faces.FaceTracker() as tracker:
        for frame in faces.read_frames(video, info.width // 2 * 2, info.height // 2 * 2):
            found = tracker.faces(frame)
            ok.append(bool(found))
            points.append(found[0] if found else np.zeros((468, 2), np.float32))
    return np.array(points), np.array(ok)


def aligned_mouths(landmarks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mouth points of each frame in the reference head's pose, in inter-ocular units."""
    eyes = np.linalg.norm(reference[33] - reference[263])
    out = []
    for points in landmarks:
        matrix = faces.similarity(points[faces.STABLE], reference[faces.STABLE])
        out.append(faces.apply(matrix, points[faces.MOUTH]) / eyes)
    return np.array(out)


def openings(landmarks: np.ndarray) -> np.ndarray:
    return np.linalg.norm(landmarks[:, 14] - landmarks[:, 13], axis=1) / np.linalg.norm(
        landmarks[:, 263] - landmarks[:, 33], axis=1)


def loudness(wav: Path, frames: int) -> np.ndarray:
    samples, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    step = rate // 25
    samples = np.pad(samples.mean(1), (0, max(0, frames * step - len(samples))))[: frames * step]
    return 20 * np.log10(np.sqrt((samples.reshape(frames, step) ** 2).mean(1)) + 1e-5)


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a speech frame's opening exceeds a silence frame's (Mann–Whitney)."""
    if not len(positive) or not len(negative):
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + 0.5 * ties)


def render(engine, avatar: Path, manifest: dict, audio: Path, output: Path, work: Path) -> float:
    started = time.monotonic()
    engine.render(RenderJob(avatar, manifest, audio, output, work), Quiet())
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DATA / "video_en_female_aoc_sadtalker.mp4")
    parser.add_argument("--speech", type=Path, default=DATA / "speech_en_jfk_whisper.flac")
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    engine = BuiltinTalkingHead()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        duration = probe(args.video).duration
        split = round(duration * 0.7 * 25) / 25
        train_clip, held_clip, held_wav = work / "train.mp4", work / "held.mp4", work / "held.wav"
        ffmpeg("-i", str(args.video), "-t", f"{split}", "-c:v", "libx264", "-crf", "12", "-c:a", "aac",
               str(train_clip))
        ffmpeg("-ss", f"{split}", "-i", str(args.video), "-c:v", "libx264", "-crf", "12", "-c:a", "aac",
               str(held_clip))
        ffmpeg("-i", str(held_clip), "-ac", "1", "-ar", "16000", str(held_wav))

        started = time.monotonic()
        avatar = work / "avatar"
        manifest = engine.train(TrainingJob("bench", train_clip, avatar, args.epochs), Quiet())
        train_seconds = time.monotonic() - started

        held_out = work / "held_out.mp4"
        render(engine, avatar, manifest, held_wav, held_out, work)
        real, real_ok = mouth_tracks(held_clip)
        fake, fake_ok = mouth_tracks(held_out)
        still_all, still_ok = mouth_tracks(avatar / "frames.mp4")
        count = min(len(real), len(fake))
        both = real_ok[:count] & fake_ok[:count]
        reference = real[np.flatnonzero(real_ok)[0]]
        real_mouths = aligned_mouths(real[:count][both], reference)
        fake_mouths = aligned_mouths(fake[:count][both], reference)
        closed_frame = still_all[still_ok][np.argmin(openings(still_all[still_ok]))]
        closed = aligned_mouths(closed_frame[None], reference)[0]
        lmd = np.linalg.norm(fake_mouths - real_mouths, axis=-1).mean()
        still_lmd = np.linalg.norm(closed[None] - real_mouths, axis=-1).mean()
        # For scale: the training clip's average mouth, held still (no audio at all).
        average = aligned_mouths(still_all[still_ok], reference).mean(0)
        average_lmd = np.linalg.norm(average[None] - real_mouths, axis=-1).mean()

        speech_wav = work / "speech.wav"
        ffmpeg("-i", str(args.speech), "-ac", "1", "-ar", "16000", str(speech_wav))
        spoken = work / "spoken.mp4"
        render_seconds = render(engine, avatar, manifest, speech_wav, spoken, work)
        frames = int(round(probe(speech_wav).duration * 25))
        tracks, ok = mouth_tracks(spoken)
        opening = openings(tracks)
        loud = loudness(speech_wav, len(opening))
        # Relative to the recording's noise floor, so background hiss is not counted as speech.
        floor = np.percentile(loud, 10)
        speech, silence = ok & (loud > floor + 20), ok & (loud < floor + 5)
        auc = roc_auc(opening[speech], opening[silence])
        r = float(np.corrcoef(opening[ok], loud[ok])[0, 1])

    print(f"reference: {args.video.name}, {duration:.1f} s; trained on {split:.1f} s, {args.epochs} epochs")
    print(f"training: {train_seconds:.1f} s ({manifest['frames']} frames; engine held-out scores {manifest['scores']})")
    print(f"held-out 30 %: LMD {lmd:.4f} vs closed-still {still_lmd:.4f} -> ratio {lmd / still_lmd:.2f} (target <= 0.6); "
          f"average-mouth still {average_lmd / still_lmd:.2f}")
    print(f"{args.speech.name}: ROC AUC speech vs silence {auc:.3f} ({speech.sum()} speech, {silence.sum()} silence "
          f"frames; target >= 0.9); opening~loudness r {r:.3f} (target >= 0.5)")
    print(f"render: {frames} frames in {render_seconds:.2f} s = {frames / render_seconds:.0f} fps incl. encoding "
          f"(target >= 100 fps)")


if __name__ == "__main__":
    main()
