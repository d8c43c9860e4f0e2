"""Face tracking with MediaPipe's face mesh (shipped inside the mediapipe 0.10.21 wheel) and head alignment."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from avatar_site.lib.media import ffmpeg_binary

# Points that move with the head but hardly with speech, centred on the nose and lower face: the mouth is
# pasted by a similarity fit to them, and points on the face outline (temples) would pull it aside when
# the head turns (they slide around the silhouette).
STABLE = [33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 2, 98, 327, 50, 280, 205, 425, 36, 266]
# Lips (outer and inner contour) and the lower jaw line: what speech moves.
LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409,
        78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415]
JAW = [172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397]
MOUTH = LIPS + JAW
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
UPPER_INNER, LOWER_INNER = 13, 14


def read_frames(path: Path, width: int, height: int, video_filter: str | None = None) -> Iterator[np.ndarray]:
    """Decode RGB frames at 25 fps through ffmpeg's pipe (no temporary images)."""
    vf = f"fps=25,{video_filter + ',' if video_filter else ''}scale={width}:{height}"
    process = subprocess.Popen(
        [ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
         "-an", "-vf", vf, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    size = width * height * 3
    try:
        while True:
            data = process.stdout.read(size)
            if len(data) < size:
                break
            yield np.frombuffer(data, np.uint8).reshape(height, width, 3)
    finally:
        process.stdout.close()
        process.kill()
        process.wait()


class FaceTracker:
    """Landmarks (468 points, pixels) of every face in a stream of frames; tracking mode between frames."""

    def __init__(self, max_faces: int = 1):
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=max_faces, refine_landmarks=False,
            min_detection_confidence=0.5, min_tracking_confidence=0.5,
        )

    def faces(self, frame: np.ndarray) -> list[np.ndarray]:
        result = self._mesh.process(frame)
        if not result.multi_face_landmarks:
            return []
        height, width = frame.shape[:2]
        return [
            np.array([(p.x * width, p.y * height) for p in face.landmark], np.float32)
            for face in result.multi_face_landmarks
        ]

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2×3 similarity transform (rotation, uniform scale, shift) mapping ``source`` points onto ``target`` (Umeyama)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    s, t = source - mu_s, target - mu_t
    cov = t.T @ s / len(source)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(d) @ sign) / (s**2).sum(1).mean()
    matrix = np.zeros((2, 3), np.float64)
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_t - matrix[:, :2] @ mu_s
    return matrix


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def invert(matrix: np.ndarray) -> np.ndarray:
    # The 2×2 inverse in closed form: np.linalg.inv went through LAPACK at ~2.5 ms a call on the
    # busy 2-core machine, a fifth of the render time per frame.
    (a, b), (c, d) = matrix[:, :2]
    linear = np.array([[d, -b], [-c, a]], np.float64) / (a * d - b * c)
    return np.hstack([linear, -(linear @ matrix[:, 2])[:, None]])


def align(landmarks: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame transforms into a canonical head pose, and that pose's stable points.

    The canonical pose is the mean of the valid frames after one Procrustes pass onto the first.
    """
    first = landmarks[np.flatnonzero(valid)[0], STABLE]
    aligned = [apply(similarity(landmarks[i, STABLE], first), landmarks[i, STABLE]) for i in np.flatnonzero(valid)]
    canonical = np.mean(aligned, axis=0)
    transforms = np.tile(np.eye(2, 3), (len(landmarks), 1, 1))
    for i in np.flatnonzero(valid):
        transforms[i] = similarity(landmarks[i, STABLE], canonical)
    return transforms, canonical


def mouth_opening(mouth_points: np.ndarray) -> np.ndarray:
    """Inner-lip gap in canonical pixels from points ordered as MOUTH (works on (..., len(MOUTH), 2))."""
    upper, lower = MOUTH.index(UPPER_INNER), MOUTH.index(LOWER_INNER)
    return np.linalg.norm(mouth_points[..., lower, :] - mouth_points[..., upper, :], axis=-1)
