"""SyncTalk (CVPR 2024, CC BY-NC 4.0): https://github.com/ZiqiaoPeng/SyncTalk, run from its checkout."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from training.engines.nerf_common import NeRFEngine


class SyncTalk(NeRFEngine):
    name = "SyncTalk"
    home_setting = "SYNCTALK_HOME"
    python_setting = "SYNCTALK_PYTHON"
    asr_setting = "SYNCTALK_ASR"
    repository = "https://github.com/ZiqiaoPeng/SyncTalk"
    asr_models = ("ave", "deepspeech", "hubert")
    lips_patch_size = 64
    # README: head --iters 60000, lips --iters 100000. It gives no torso command: 2.5 × the head is ours.
    lips_ratio = 2 / 3
    torso_ratio = 2.5
    torso_default = False

    def preprocess_args(self, video: str, asr: str) -> list[str]:
        return ["data_utils/process.py", video, "--asr", asr]

    def after_preprocess(self, data_dir: Path, asr: str, runner, progress) -> None:
        # process.py runs the blendshape capture with os.system and carries on when it fails
        # (MediaPipe missing, or its face_landmarker.task); training then cannot start without it.
        self.expect(data_dir / "bs.npy", _("blendshape capture"), runner)

    def feature_args(self, wav: Path, asr: str) -> tuple[list[str] | None, Path]:
        if asr == "ave":
            # The audio-visual encoder reads the 16 kHz wav itself.
            return None, wav
        if asr == "deepspeech":
            return (["data_utils/deepspeech_features/extract_ds_features.py", "--input", str(wav)],
                    wav.with_name(f"{wav.stem}_ds.npy"))
        return ["data_utils/hubert.py", "--wav", str(wav)], wav.with_name(f"{wav.stem}_hu.npy")

    def render_args(self, data: str, workspace: str, aud: Path, manifest: dict) -> list[str]:
        return [
            "main.py", data, "--workspace", workspace, "-O", "--test", "--test_train",
            "--asr_model", manifest["asr_model"], "--torso" if manifest["torso"] else "--portrait",
            "--aud", str(aud),
        ]
