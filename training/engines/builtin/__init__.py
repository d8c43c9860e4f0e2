"""The built-in CPU talking-head engine (MediaPipe face mesh + a small torch audio→mouth model).

This module stays light: web processes load it to check requests, while MediaPipe, torch and
OpenCV (``engine.py``, ~350 MB) load only in the worker that trains or renders.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.media import MediaInfo
from training.engines.base import EngineError, RenderJob, TalkingHeadEngine, TrainingJob

DEFAULTS = {"model": "linear", "ridge": 100.0, "lr": 2e-3, "batch_size": 32, "hidden": 64, "window": 16}
MODELS = ("linear", "cnn")
# What a trained avatar's folder holds besides manifest.json (defined here, not in engine.py, so
# that checking an imported archive does not load the engine).
AVATAR_FILES = ("frames.mp4", "audio.wav", "tracks.npz", "mouths.mp4", "mouth_net.pt", "mouth_basis.npz")
LIMITS = {"ridge": (0.0, 1e5), "lr": (1e-6, 1.0), "batch_size": (2, 1024), "hidden": (8, 512), "window": (8, 128)}


class BuiltinTalkingHead(TalkingHeadEngine):
    name = "builtin"
    allowed_params = {"model": str, "ridge": float, "lr": float, "batch_size": int, "hidden": int, "window": int}
    archive_files = AVATAR_FILES  # mouth_net.pt is loaded with weights_only: no code runs from it

    def validate_params(self, params: dict) -> dict:
        converted = super().validate_params(params)
        if "model" in converted:
            converted["model"] = converted["model"].strip().lower()
            if converted["model"] not in MODELS:
                raise ValueError(_("model=%(model)r is not one of %(choices)s") % {
                    "model": converted["model"], "choices": ", ".join(MODELS)})
        for key, value in converted.items():
            if key in LIMITS and not LIMITS[key][0] <= value <= LIMITS[key][1]:
                raise ValueError(_("%(key)s=%(value)s is outside %(low)g…%(high)g") % {
                    "key": key, "value": value, "low": LIMITS[key][0], "high": LIMITS[key][1]})
        return converted

    def check_reference(self, info: MediaInfo) -> None:
        super().check_reference(info)
        if info.duration < settings.BUILTIN_TH_MIN_SECONDS:
            raise EngineError(_("The reference video lasts %(seconds).1f s; at least %(minimum)g s are needed.") % {
                "seconds": info.duration, "minimum": settings.BUILTIN_TH_MIN_SECONDS})
        if info.duration > settings.BUILTIN_TH_MAX_SECONDS:
            raise EngineError(_("The reference video lasts %(seconds).0f s; at most %(maximum)g s are accepted.") % {
                "seconds": info.duration, "maximum": settings.BUILTIN_TH_MAX_SECONDS})

    def train(self, job: TrainingJob, progress) -> dict:
        from training.engines.builtin.engine import MouthTransplant

        return MouthTransplant().train(job, progress)

    def render(self, job: RenderJob, progress) -> None:
        from training.engines.builtin.engine import MouthTransplant

        MouthTransplant().render(job, progress)
