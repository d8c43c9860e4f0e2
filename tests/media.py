"""Media made with ffmpeg for tests, and the shared real recordings (skipped when absent)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from avatar_site.lib.media import ffmpeg_binary

SHARED_MEDIA = Path(os.environ.get("AVATAR_TEST_MEDIA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared_media(name: str) -> Path:
    path = SHARED_MEDIA / name
    if not path.is_file():
        pytest.skip(f"real test media {name} not found in {SHARED_MEDIA} (set AVATAR_TEST_MEDIA)")
    return path


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def tone_wav(path: Path, seconds: float = 4.0, frequency: int = 220, rate: int = 16000) -> Path:
    """A tone with a slow amplitude wobble, so it is not 'silence'."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate={rate}:duration={seconds}",
            "-af", "volume=0.5", "-ac", "1", str(path))
    return path


def silent_wav(path: Path, seconds: float = 4.0) -> Path:
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", str(seconds), str(path))
    return path


def test_video(path: Path, seconds: float = 3.0, audio: bool = True, size: str = "160x120") -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}", "-shortest"]
    _ffmpeg(*args, "-pix_fmt", "yuv420p", str(path))
    return path


test_video.__test__ = False  # not a pytest test despite its name
