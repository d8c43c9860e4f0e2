"""What ffprobe and ffmpeg tell the engines about a video: its upright size, its audio in sync."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile

from avatar_site.lib.media import MediaError, probe, to_wav


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def test_a_video_stored_sideways_reports_its_upright_size(tmp_path):
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1", "-c:v", "libx264", str(tmp_path / "a.mp4"))
    # Debian's ffmpeg 5 turns the rotate tag into the display matrix that phones write.
    ffmpeg("-i", str(tmp_path / "a.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(tmp_path / "phone.mp4"))

    assert (probe(tmp_path / "a.mp4").width, probe(tmp_path / "a.mp4").height) == (320, 240)
    assert (probe(tmp_path / "phone.mp4").width, probe(tmp_path / "phone.mp4").height) == (240, 320)


def test_a_late_audio_track_is_padded_to_the_first_frame_when_asked(tmp_path):
    video = tmp_path / "late.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=3", "-itsoffset", "0.9",
           "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-c:a", "aac", str(video))

    def first_sound(in_sync: bool) -> float:
        samples, rate = soundfile.read(str(to_wav(video, tmp_path / f"{in_sync}.wav", in_sync=in_sync)))
        return np.flatnonzero(np.abs(samples) > 0.01)[0] / rate

    assert first_sound(in_sync=False) < 0.1
    assert 0.8 < first_sound(in_sync=True) < 1.0


def test_an_unreadable_file_is_named_without_the_servers_folders(tmp_path):
    damaged = tmp_path / "upload-123.wav"
    damaged.write_bytes(b"RIFF" + b"\0" * 100)

    with pytest.raises(MediaError) as refused:
        probe(damaged)

    assert "upload-123.wav" in str(refused.value)
    assert str(tmp_path) not in str(refused.value)


def test_audio_written_as_a_stream_has_its_length_measured(tmp_path):
    """A webm piped out of a recorder has no duration in its header; its packets tell the length."""
    stream = tmp_path / "recording.webm"
    with open(stream, "wb") as sink:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=3",
                        "-c:a", "libopus", "-f", "webm", "-"], stdout=sink, check=True)

    info = probe(stream)

    assert 2.9 < info.duration < 3.1
