"""Steps through the API that many tests need: a cloned voice, a trained avatar.

Their input files go to the operator-shared input folder beside the media root (see conftest).
"""

from __future__ import annotations

from pathlib import Path

from tests.media import test_video, tone_wav


def clone_voice(api, media_root: Path, audio_id: str = "speaker_1"):
    reference = tone_wav(media_root.parent / "inputs" / f"{audio_id}_ref.wav", seconds=4)
    return api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": audio_id})


def train_avatar(api, media_root: Path, model_choice: str = "builtin", **extra):
    video = test_video(media_root.parent / "inputs" / "reference.mp4", seconds=2)
    return api.post(
        "/model_training",
        {"model_choice": model_choice, "ref_video": str(video), "gpu_choice": "GPU0", "epoch": "2", **extra},
    )
