"""ER-NeRF (ICCV 2023, MIT): https://github.com/Fictionarry/ER-NeRF, run from its checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import EngineUnavailable
from training.engines.base import EngineError
from training.engines.nerf_common import NeRFEngine, Stage


class ERNeRF(NeRFEngine):
    name = "ER-NeRF"
    home_setting = "ERNERF_HOME"
    python_setting = "ERNERF_PYTHON"
    asr_setting = "ERNERF_ASR"
    repository = "https://github.com/Fictionarry/ER-NeRF"
    asr_models = ("deepspeech", "hubert")
    lips_patch_size = 32
    # README: head --iters 100000, lips --iters 125000, torso --iters 200000.
    lips_ratio = 0.25
    torso_ratio = 2.0
    torso_default = True
    # The spec: "ER-NeRF只需要文本": it speaks target_text, never the reference recording.
    text_optional = False

    def check_trainable(self) -> None:
        # Its preprocessing never writes au.csv (eye blinks), which training reads: without
        # OpenFace every training would fail after hours of preprocessing. Rendering needs none.
        openface = settings.OPENFACE_FEATURE_EXTRACTION
        if not openface:
            raise EngineUnavailable(_("ER-NeRF needs OpenFace for its eye-blink values: build OpenFace and set "
                                      "OPENFACE_FEATURE_EXTRACTION to its FeatureExtraction binary (README, "
                                      "'GPU engines')."))
        if not ((Path(settings.ERNERF_HOME) / openface).is_file() or shutil.which(openface)):
            raise EngineUnavailable(_("ER-NeRF: OPENFACE_FEATURE_EXTRACTION=%(value)s is not a program (a relative "
                                      "path is taken from ERNERF_HOME).") % {"value": openface})

    def preprocess_args(self, video: str, asr: str) -> list[str]:
        # Named explicitly: some upstream revisions default --asr to wav2vec, whose script
        # (nerf/asr.py) ER-NeRF does not ship. HuBERT features are added afterwards.
        return ["data_utils/process.py", video, "--asr", "deepspeech"]

    def after_preprocess(self, data_dir: Path, asr: str, runner, progress) -> None:
        # Upstream's DeepSpeech extractor writes aud.npy, its dataset loads aud_ds.npy.
        if (data_dir / "aud.npy").is_file() and not (data_dir / "aud_ds.npy").exists():
            shutil.copyfile(data_dir / "aud.npy", data_dir / "aud_ds.npy")
        if asr == "hubert":
            runner.run(Stage("hubert", ["data_utils/hubert.py", "--wav", str(data_dir / "aud.wav")]),
                       progress, _("preprocessing: HuBERT features"))
            self.expect(data_dir / "aud_hu.npy", _("HuBERT feature extraction"), runner)
        else:
            self.expect(data_dir / "aud_ds.npy", _("DeepSpeech feature extraction"), runner)
        au = data_dir / "au.csv"
        if not au.exists() and settings.OPENFACE_FEATURE_EXTRACTION:
            self._openface(data_dir, runner, progress)
        if not au.exists():
            raise EngineError(
                _("ER-NeRF needs OpenFace's eye-blink values (AU45) in %(file)s, which preprocessing does "
                  "not make: install OpenFace and set OPENFACE_FEATURE_EXTRACTION to its FeatureExtraction "
                  "binary (README, 'GPU engines').") % {"file": au}
            )

    def _openface(self, data_dir: Path, runner, progress) -> None:
        out_dir = data_dir / "openface"
        video = data_dir / f"{data_dir.name}.mp4"
        runner.run(
            Stage("openface", ["-f", str(video), "-out_dir", str(out_dir), "-aus"],
                  program=settings.OPENFACE_FEATURE_EXTRACTION),
            progress, _("preprocessing: OpenFace action units"),
        )
        self.expect(out_dir / f"{video.stem}.csv", "OpenFace", runner)
        shutil.copyfile(out_dir / f"{video.stem}.csv", data_dir / "au.csv")

    def feature_args(self, wav: Path, asr: str) -> tuple[list[str] | None, Path]:
        if asr == "hubert":
            return ["data_utils/hubert.py", "--wav", str(wav)], wav.with_name(f"{wav.stem}_hu.npy")
        # ER-NeRF's extractor names its output after the input: x.wav → x.npy.
        return ["data_utils/deepspeech_features/extract_ds_features.py", "--input", str(wav)], wav.with_suffix(".npy")

    def render_args(self, data: str, workspace: str, aud: Path, manifest: dict) -> list[str]:
        torso = ["--torso"] if manifest["torso"] else []
        return [
            "main.py", data, "--workspace", workspace, "-O", *torso, "--test", "--test_train",
            "--asr_model", manifest["asr_model"], "--aud", str(aud), "--smooth_path",
        ]
