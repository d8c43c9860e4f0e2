"""Starting a training from a /model_training request: checks, the avatar's row, the queued job."""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _

from avatar_site.lib.errors import ApiError, Unprocessable
from avatar_site.lib.media_access import may_use_input
from avatar_site.lib.uploads import as_given, discard_upload, is_upload, media_input
from monitoring import jobs
from monitoring.models import HistoryType, Task
from training import tasks
from training.engines import get_talking_head_engine
from training.engines.base import EngineError
from training.models import Avatar


def submit_training(data: dict, user) -> tuple[Task, Avatar]:
    """Check the engine, its custom_params and the reference video (refused at once when it cannot
    train: no upload is kept for that), reserve the avatar's id and queue its training."""
    queue = jobs.queue_for(data["gpu_choice"])
    engine = get_talking_head_engine(data["model_choice"], queue)
    try:
        params = engine.validate_params(data.get("custom_params", {}))
    except ValueError as exc:
        raise ApiError(_("custom_params: %(reason)s") % {"reason": exc}) from None
    source, info = media_input(data["ref_video"], "ref_video", need_video=True, folder="uploads/videos",
                               may_use=partial(may_use_input, user))
    try:
        try:
            engine.check_reference(info)
        except EngineError as exc:
            raise Unprocessable(_("ref_video: %(reason)s") % {"reason": exc}) from None
        avatar = Avatar.create_with_unique_id(
            name=data.get("name") or Avatar.default_name(data["ref_video"]), engine=data["model_choice"], source_video=str(source), source_uploaded=is_upload(data["ref_video"]),
            epochs=data["epoch"], params=params, gpu=data["gpu_choice"], owner=user,
        )
    except Exception:
        discard_upload(source, data["ref_video"])
        raise
    try:
        task = jobs.submit(
            HistoryType.MODEL_TRAINING,
            tasks.train,
            {"model_choice": avatar.engine, "ref_video": as_given(data["ref_video"]), "source_path": str(source),
             "gpu_choice": avatar.gpu, "epoch": avatar.epochs, "custom_params": params, "avatar_id": avatar.id},
            owner=user, queue=queue, gpu=avatar.gpu,
        )
    except jobs.TaskNotQueued:
        raise  # its task failed like any job, and left the avatar failed
    except Exception:
        avatar.delete()  # no task was made for it; its uploaded video goes with it
        raise
    return task, avatar
