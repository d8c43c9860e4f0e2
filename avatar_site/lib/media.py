"""ffmpeg and ffprobe: probing media by content and converting it. Argument lists only, no shell."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ServiceUnavailable


class MediaError(Exception):
    """The file is not usable media (not media at all, corrupt, or outside the limits)."""


class MediaToolMissing(ServiceUnavailable):
    """ffmpeg or ffprobe is not installed: the server's fault (503), never taken for unusable media."""


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    has_audio: bool
    has_video: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0
    audio_rate: int = 0
    audio_channels: int = 0
    format_name: str = ""
    #: Width of a stored pixel over its height (anamorphic video: not 1); width above is as shown.
    pixel_aspect: float = 1.0
    #: The video's transfer function as ffprobe names it (arib-std-b67: HLG, smpte2084: PQ), and
    #: whether its primaries and matrix are tagged (a tone map needs them; HDR means BT.2020 otherwise).
    color_transfer: str = ""
    color_tagged: bool = True
    #: Pixels of a stored frame (before square-pixel scaling): what decoding one costs.
    stored_pixels: int = 0

    @property
    def is_hdr(self) -> bool:
        return self.color_transfer in HDR_TRANSFERS


HDR_TRANSFERS = ("arib-std-b67", "smpte2084")

# What a player does before showing an HDR frame on an ordinary screen: linear light, BT.709
# primaries, a tone curve, then BT.709 video levels (ffmpeg's documented zscale + tonemap chain).
# Mobius keeps colours up to SDR white as they are and rolls off only the highlights above (hable
# darkened a whole HLG frame by a third: faces came out dim).
TONE_MAP_TO_SDR = ("zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0,"
                   "zscale=t=bt709:m=bt709:r=tv,format=yuv420p")


def display_filters(info: MediaInfo) -> list[str]:
    """ffmpeg filters that turn a video's stored frames into what a player shows: square pixels
    (anamorphic video) and SDR colours (an iPhone's HLG or a PQ video would otherwise come out
    grey and washed out). Rotation needs none: ffmpeg turns frames upright by itself (its
    transpose also turns the pixel aspect, so the size is given as probe reports it, not as
    iw*sar, which would then widen the wrong side)."""
    filters = []
    if abs(info.pixel_aspect - 1) > 0.01:
        filters.append(f"scale={info.width}:{info.height},setsar=1")
    if info.is_hdr:
        # Untagged primaries and matrix of an HDR video are BT.2020's (zscale finds no path otherwise).
        if not info.color_tagged:
            filters.append("setparams=color_primaries=bt2020:colorspace=bt2020nc")
        filters.append(TONE_MAP_TO_SDR)
    return filters


@cache
def ffmpeg_binary() -> str:
    if settings.FFMPEG_BINARY:
        return settings.FFMPEG_BINARY
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if not found:
            raise MediaToolMissing(_("%(tool)s is not installed.") % {"tool": "ffmpeg"}) from None
        return found


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise MediaToolMissing(_("%(tool)s is not installed.") % {"tool": Path(args[0]).name}) from None
    except subprocess.TimeoutExpired:
        raise MediaError(_("%(tool)s took longer than %(seconds).0f s.")
                         % {"tool": Path(args[0]).name, "seconds": timeout}) from None


def _fraction(text: str) -> float:
    try:
        num, _slash, den = text.partition("/")
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


#: The demuxers a file may be opened with: audio and video containers. Playlists and scripts (hls,
#: concat, image sequences, …) name other files, which ffmpeg would read on the client's behalf.
CONTAINERS = ("mov", "mp4", "matroska", "webm", "wav", "w64", "mp3", "ogg", "flac", "aac", "avi", "asf", "aiff",
              "caf", "amr", "flv", "mpegts", "mpeg", "mxf", "ac3", "eac3", "dts", "wv", "au")
# Still images are "video" streams to ffprobe; they have no duration worth the name.
IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe"}
_REFUSED_FORMAT = re.compile(r"\[(\w+) @ [^]]*\] Format not on whitelist")


def probe(path: Path) -> MediaInfo:
    """Inspect a file by its content with ffprobe; raise MediaError when it is not media."""
    result = _run(
        [
            settings.FFPROBE_BINARY, "-v", "error", "-format_whitelist", ",".join(CONTAINERS),
            "-print_format", "json", "-show_format", "-show_streams", "--", str(path),
        ],
        timeout=60,
    )
    if result.returncode != 0:
        if refused := _REFUSED_FORMAT.search(result.stderr.decode(errors="replace")):
            if refused[1] in IMAGE_FORMATS:
                raise MediaError(_("The file is a still image, not audio or video."))
            raise MediaError(_("Files of the kind %(format)s are not accepted; send audio or video "
                               "(mp4, mov, webm, mkv, wav, mp3, m4a, flac, ogg, …).") % {"format": refused[1]})
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        # ffprobe names the file by its full path: clients see only its name.
        reason = reason[-1].replace(str(path), Path(path).name) if reason else "ffprobe failed"
        raise MediaError(_("Not a readable media file (%(reason)s).") % {"reason": reason})
    data = json.loads(result.stdout or b"{}")
    streams = data.get("streams", [])
    fmt = data.get("format", {})
    video = next(
        (s for s in streams if s.get("codec_type") == "video"
         and not s.get("disposition", {}).get("attached_pic")),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise MediaError(_("The file has neither audio nor video."))
    format_name = fmt.get("format_name", "")
    if audio is None and format_name in IMAGE_FORMATS:
        raise MediaError(_("The file is a still image, not audio or video."))
    duration = float(fmt.get("duration") or (video or audio).get("duration") or 0.0)
    if duration <= 0:  # written as a stream (e.g. webm piped out of a recorder): the header has no length
        duration = _packet_duration(path, "a:0" if audio else "v:0")
    width, height = (int(video.get("width", 0)), int(video.get("height", 0))) if video else (0, 0)
    pixel_aspect = _fraction(video.get("sample_aspect_ratio", "1:1").replace(":", "/")) if video else 1.0
    pixel_aspect = pixel_aspect if 0.1 < pixel_aspect < 10 else 1.0  # 0:1 means unknown
    width = int(width * pixel_aspect) // 2 * 2 if pixel_aspect != 1.0 else width
    if video and _rotation(video) % 180 == 90:  # a phone's portrait video: ffmpeg decodes it upright
        width, height = height, width
    return MediaInfo(
        duration=duration,
        has_audio=audio is not None,
        has_video=video is not None,
        width=width,
        height=height,
        fps=_fraction(video.get("avg_frame_rate", "0/1")) if video else 0.0,
        audio_rate=int(audio.get("sample_rate", 0)) if audio else 0,
        audio_channels=int(audio.get("channels", 0)) if audio else 0,
        format_name=format_name,
        pixel_aspect=pixel_aspect,
        color_transfer=video.get("color_transfer", "") if video else "",
        color_tagged=bool(video) and all(video.get(key, "unknown") != "unknown"
                                         for key in ("color_primaries", "color_space")),
        stored_pixels=int(video.get("width", 0)) * int(video.get("height", 0)) if video else 0,
    )


def _packet_duration(path: Path, stream: str) -> float:
    """Where the stream's last packet ends, read from the container without decoding."""
    result = _run(
        [
            settings.FFPROBE_BINARY, "-v", "error", "-format_whitelist", ",".join(CONTAINERS), "-select_streams", stream,
            "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", "--", str(path),
        ],
        timeout=60,
    )
    end = 0.0
    for line in result.stdout.decode(errors="replace").splitlines():
        try:
            values = [float(value) for value in line.split(",") if value.strip()]
        except ValueError:  # "N/A"
            continue
        end = max(end, sum(values[:2]))
    return end


def _rotation(stream: dict) -> int:
    """Degrees the player turns the stored frames: the display matrix, else the old ``rotate`` tag."""
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            return int(round(float(side_data["rotation"])))
    try:
        return int(stream.get("tags", {}).get("rotate", 0))
    except ValueError:
        return 0


def check_limits(info: MediaInfo) -> None:
    """Refuse media whose duration or frame size is absurd, before anything decodes it."""
    if info.duration <= 0:
        raise MediaError(_("The media has no duration."))
    if info.duration > settings.MAX_MEDIA_SECONDS:
        raise MediaError(_("The media lasts %(seconds).0f s, longer than the limit of %(limit).0f s.")
                         % {"seconds": info.duration, "limit": settings.MAX_MEDIA_SECONDS})
    if max(info.width * info.height, info.stored_pixels) > settings.MAX_MEDIA_PIXELS:
        raise MediaError(_("The video frame %(width)s×%(height)s is larger than allowed.")
                         % {"width": info.width, "height": info.height})


def run_ffmpeg(args: list[str], timeout: float = 3600) -> None:
    """Run ffmpeg with the given arguments (after the binary), raising MediaError on failure."""
    result = _run([ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], timeout)
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else _("exit code %(code)s") % {"code": result.returncode}
        raise MediaError(_("ffmpeg failed: %(reason)s") % {"reason": reason})


def to_wav(source: Path, target: Path, rate: int = 16000, channels: int = 1, in_sync: bool = False) -> Path:
    """Decode any audio (or a video's audio track) to 16-bit PCM WAV.

    ``in_sync``: a track that starts after the file does (a video's late audio) gets silence in
    front, so that sample 0 is the moment of the first video frame, not the first sound.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sync = ["-af", "aresample=async=1:first_pts=0"] if in_sync else []
    run_ffmpeg(["-i", str(source), "-vn", *sync, "-ac", str(channels), "-ar", str(rate), "-c:a", "pcm_s16le",
                str(target)])
    return target


def mux_browser_mp4(video: Path, audio: Path | None, target: Path, fps: float | None = None) -> Path:
    """Encode to H.264 yuv420p + AAC with the index up front, playable in every browser."""
    args = ["-i", str(video)]
    if audio is not None:
        args += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-shortest"]
    if fps:
        args += ["-r", f"{fps:g}"]
    args += [
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart",
    ]
    args += ["-c:a", "aac", "-b:a", "128k"] if audio is not None else ["-an"]
    target.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg([*args, str(target)])
    return target
