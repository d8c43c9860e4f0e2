"""Avatars trained outside the platform: a SyncTalk or ER-NeRF workspace an operator registers.

Only staff run it (``manage.py register_avatar``, on the GPU host holding the checkout): upstream
unpickles the workspace's checkpoints, so they must come from someone trusted with that host,
never from a client upload.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

from django.utils.translation import gettext as _

from training.engines import get_talking_head_engine
from training.engines.nerf_common import FPS, NeRFEngine, latest_checkpoint
from training.models import Avatar


class RegistrationError(Exception):
    """Why the workspace cannot become an avatar, for the operator."""


def register_nerf_avatar(engine_name: str, workspace: Path, data_id: str, asr_model: str, torso: bool,
                         owner, gpu: str) -> Avatar:
    """Copy ``workspace`` (upstream's --workspace folder, with checkpoints/ngp_ep*.pth) into a new
    ready avatar rendering from ``data/<data_id>`` of this host's checkout."""
    engine = get_talking_head_engine(engine_name)
    if not isinstance(engine, NeRFEngine):
        raise RegistrationError(_("%(engine)s avatars are trained by the platform; only SyncTalk and ER-NeRF "
                                  "workspaces can be registered.") % {"engine": engine_name})
    workspace = workspace.resolve()
    checkpoint = latest_checkpoint(workspace)
    if not checkpoint.is_file():
        raise RegistrationError(_("%(folder)s has no checkpoints/ngp_ep*.pth.") % {"folder": workspace})
    if re.fullmatch(r"user_\d{8}(_\d+)?", data_id):
        raise RegistrationError(_("data/%(data_id)s is named like the platform's own avatars, whose trainings "
                                  "replace and delete data/<avatar id>: rename the folder (and its files' "
                                  "prefix) first.") % {"data_id": data_id})
    if not re.fullmatch(r"[A-Za-z0-9_-]+", data_id) or not (engine.home / "data" / data_id).is_dir():
        raise RegistrationError(_("%(engine)s's checkout has no data/%(data_id)s (the preprocessed video the "
                                  "workspace was trained on).") % {"engine": engine_name, "data_id": data_id})
    if asr_model not in engine.asr_models:
        raise RegistrationError(_("%(engine)s renders with the audio features %(choices)s, not %(asr)r.") % {
            "engine": engine_name, "choices": ", ".join(engine.asr_models), "asr": asr_model})
    avatar = Avatar.create_with_unique_id(
        name=data_id, engine=engine_name, source_video=f"(registered workspace {workspace})", epochs=1,
        metrics={"registered_from": str(workspace)}, gpu=gpu, owner=owner,
    )
    try:
        shutil.copytree(workspace, avatar.folder / "workspace", symlinks=False)
        manifest = {
            "engine": engine_name, "avatar_id": avatar.id, "data_id": data_id, "workspace": "workspace",
            "head_workspace": "workspace", "checkpoint": f"workspace/checkpoints/{checkpoint.name}",
            "asr_model": asr_model, "torso": torso, "portrait": not torso, "fps": FPS,
            "trained_on": {"host": socket.gethostname(), "gpu": gpu}, "registered_from": str(workspace),
        }
        avatar.make_ready(manifest)
    except BaseException:
        avatar.delete()
        raise
    return avatar
