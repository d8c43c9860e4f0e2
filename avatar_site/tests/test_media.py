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


def decoded_size(path, info) -> tuple[int, int]:
    """The size of the first frame as the engines decode it: through display_filters."""
    from avatar_site.lib.media import display_filters, ffmpeg_binary

    out = subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(path), "-vf", ",".join(display_filters(info)) or "null",
                          "-frames:v", "1", "-f", "image2pipe", "-c:v", "ppm", "-"], capture_output=True, check=True)
    width, height = out.stdout.split(b"\n")[1].split()
    return int(width), int(height)


@pytest.mark.parametrize("rotation", [None, "90"])
def test_an_anamorphic_video_decodes_at_the_size_probe_reports(tmp_path, rotation):
    """320×240 stored with 4:3 pixels is shown 426×240 (240×426 on a phone held upright): ffmpeg's
    autorotation also turns the pixel aspect, so scaling by iw*sar would widen the wrong side."""
    stored = tmp_path / "stored.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1", "-vf", "setsar=4/3", "-c:v", "libx264",
           str(stored))
    video = stored
    if rotation:
        video = tmp_path / "rotated.mp4"
        ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", f"rotate={rotation}", str(video))

    info = probe(video)

    assert (info.width, info.height) == ((426, 240) if rotation is None else (240, 426))
    assert decoded_size(video, info) == (info.width, info.height)


def test_an_hdr_video_whose_primaries_are_untagged_still_decodes(tmp_path):
    """Tagged HLG but not BT.2020 (some encoders write only the transfer): zscale needs the rest."""
    video = tmp_path / "hlg.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1", "-vf", "format=yuv420p10le",
           "-c:v", "libx264", "-color_trc", "arib-std-b67", str(video))

    info = probe(video)

    assert info.is_hdr and not info.color_tagged
    assert decoded_size(video, info) == (320, 240)


def test_the_pixel_limit_counts_the_stored_frame_not_only_the_shown_one(tmp_path, settings):
    from avatar_site.lib.media import check_limits

    settings.MAX_MEDIA_PIXELS = 400_000
    video = tmp_path / "tall.mp4"  # 900×900 stored (810 000 pixels), shown 100×900 (90 000)
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=900x900:rate=25:duration=1", "-vf", "setsar=1/9", "-c:v", "libx264",
           "-preset", "ultrafast", str(video))

    with pytest.raises(MediaError, match="larger than allowed"):
        check_limits(probe(video))
