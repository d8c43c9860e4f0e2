"""Rendering: pick reference mouths for predicted shapes, paste them onto a looping base motion, encode."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import cv2
import numpy as np
from django.utils.translation import gettext as _

from avatar_site.lib.media import MediaError, MediaToolMissing, ffmpeg_binary
from training.engines.builtin.faces import invert


def smooth(codes: np.ndarray, radius: int = 1) -> np.ndarray:
    """A centred moving average over time: the network's frame-by-frame jitter would read as flicker."""
    if radius <= 0 or len(codes) < 2:
        return codes
    padded = np.pad(codes, ((radius, radius), (0, 0)), mode="edge")
    kernel = np.ones(2 * radius + 1) / (2 * radius + 1)
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(codes.shape[1])], axis=1)


def select_mouths(predicted: np.ndarray, candidates: np.ndarray, candidate_codes: np.ndarray,
                  base_poses: np.ndarray, candidate_poses: np.ndarray,
                  jump_cost: float = 0.15, hold_cost: float = 0.05) -> np.ndarray:
    """The reference frame to take each output frame's mouth from (Viterbi over candidates).

    Matching cost is the squared code distance plus the squared head-pose distance to the base
    frame it is pasted on (a mouth seen from another angle does not fit a similarity warp, the
    nose and lips would double); continuing with the next reference frame is free
    (it is real motion), holding one frame costs a little, any other jump costs ``jump_cost``.
    ``candidates`` are frame numbers in ascending order.
    """
    steps, count = len(predicted), len(candidates)
    follows = np.full(count, -1)
    consecutive = np.flatnonzero(np.diff(candidates) == 1)
    follows[consecutive + 1] = consecutive  # candidate i+1 continues candidate i
    back = np.zeros((steps, count), np.int32)
    def cost(t: int) -> np.ndarray:
        return ((candidate_codes - predicted[t]) ** 2).sum(1) + ((candidate_poses - base_poses[t]) ** 2).sum(1)

    total = cost(0)
    for t in range(1, steps):
        match = cost(t)
        best = int(np.argmin(total))
        options = np.stack([
            np.full(count, total[best] + jump_cost),
            total + hold_cost,
            np.where(follows >= 0, total[np.maximum(follows, 0)], np.inf),
        ])
        choice = np.argmin(options, axis=0)
        back[t] = np.choose(choice, [np.full(count, best), np.arange(count), follows])
        total = options[choice, np.arange(count)] + match
    path = np.zeros(steps, np.int64)
    path[-1] = int(np.argmin(total))
    for t in range(steps - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return candidates[path]


def ping_pong(start: int, end: int, steps: int) -> np.ndarray:
    """Base frame numbers start…end-1, then back, and again: a loop with no visible jump."""
    length = end - start
    if length <= 1:
        return np.full(steps, start)
    cycle = np.concatenate([np.arange(length), np.arange(length - 2, 0, -1)])
    return start + cycle[np.arange(steps) % len(cycle)]


class MouthPaster:
    """Pastes canonical-space mouth patches onto frames through each frame's inverse head transform."""

    def __init__(self, mask: np.ndarray, origin: tuple[int, int]):
        self.mask = mask.astype(np.float32)
        self.origin = origin
        height, width = mask.shape
        self.corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64)

    def paste(self, frame: np.ndarray, transform: np.ndarray, patch: np.ndarray,
              outline: np.ndarray | None = None) -> np.ndarray:
        """``transform`` maps ``frame`` pixels to canonical pixels; returns a new frame.

        ``outline``, the base face's oval in frame pixels, limits the paste to the face (plus a
        little room for a lower chin): when the head is turned, the canonical mouth region reaches
        past the cheek into hair and background, which must stay the base frame's.
        """
        to_frame = invert(transform)
        shift = to_frame[:, :2] @ np.array(self.origin, np.float64) + to_frame[:, 2]
        matrix = np.hstack([to_frame[:, :2], shift[:, None]])
        corners = self.corners @ matrix[:, :2].T + matrix[:, 2]
        height, width = frame.shape[:2]
        x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int), [width, height])
        if x1 <= x0 or y1 <= y0:
            return frame
        matrix[:, 2] -= (x0, y0)
        size = (int(x1 - x0), int(y1 - y0))
        warped = cv2.warpAffine(patch, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        weight = cv2.warpAffine(self.mask, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
        if outline is not None:
            face = np.zeros((size[1], size[0]), np.uint8)
            hull = cv2.convexHull((outline - (x0, y0)).astype(np.float32)).astype(np.int32)
            cv2.fillConvexPoly(face, hull, 255)
            feather = max(1.0, 0.02 * float(np.ptp(outline[:, 0])))
            face = cv2.GaussianBlur(cv2.dilate(face, None, iterations=int(feather)), (0, 0), feather)
            weight = weight * (face.astype(np.float32) / 255.0)
        out = frame.copy()
        roi = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = cv2.blendLinear(warped, roi, weight, 1.0 - weight)
        return out


def feathered_mask(points: np.ndarray, shape: tuple[int, int], grow: float, feather: float) -> np.ndarray:
    """A soft mask (0…1) over the hull of ``points`` grown by ``grow`` px, blurred by ``feather`` px."""
    mask = np.zeros(shape, np.uint8)
    hull = cv2.convexHull(points.astype(np.float32)).astype(np.int32)
    cv2.fillConvexPoly(mask, hull, 255)
    if grow > 0:
        size = int(2 * grow) | 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    soft = mask.astype(np.float32) / 255.0
    if feather > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), feather)
    return soft


class VideoWriter:
    """Raw RGB frames piped into ffmpeg.

    For delivery (``audio`` given): H.264 yuv420p, AAC, index up front, browser-playable. As an
    ``archive`` (the avatar's mouth patches): near-lossless H.264 4:4:4, a few MB where raw arrays
    took ~400 kB a frame.
    """

    def __init__(self, path: Path, width: int, height: int, audio: Path | None = None, fps: int = 25,
                 archive: bool = False):
        args = [ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-"]
        if archive:
            args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "8", "-pix_fmt", "yuv444p", "-an"]
        else:
            args += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
                     "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                     "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"]
        try:
            self.process = subprocess.Popen([*args, "-f", "mp4", str(path)], stdin=subprocess.PIPE,
                                            stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise MediaToolMissing(_("%(tool)s is not installed.") % {"tool": "ffmpeg"}) from None

    def write(self, frame: np.ndarray) -> None:
        try:
            self.process.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:  # ffmpeg quit (the disk filled up, the output is unwritable): say why
            raise MediaError(_("ffmpeg failed: %(reason)s") % {"reason": self._last_error_line()}) from None

    def close(self) -> str:
        """Finish encoding; return ffmpeg's error text ('' on success)."""
        try:
            self.process.stdin.close()
        except BrokenPipeError:  # it quit before the last buffered frames: its error says why
            pass
        error = self.process.stderr.read().decode(errors="replace")
        return error.strip() if self.process.wait() != 0 else ""

    def _last_error_line(self) -> str:
        lines = self.process.stderr.read().decode(errors="replace").strip().splitlines()
        self.process.wait()
        return lines[-1] if lines else _("exit code %(code)s") % {"code": self.process.returncode}

    def abort(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stderr):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):  # frames still buffered for the dead ffmpeg
                    pipe.close()
