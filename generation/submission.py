"""Starting the job of a /video_generation request."""

from __future__ import annotations

from generation import tasks
from generation.renderer import discard_if_imported, resolve_render_inputs
from monitoring import jobs
from monitoring.models import HistoryType, Task


def submit_render(data: dict, user) -> Task:
    """Check the avatar (an uploaded archive is imported), the voice and the engine, and queue the
    render; an archive imported for a request that is refused after all is deleted again."""
    queue = jobs.queue_for(data["gpu_choice"])
    avatar, speaker = resolve_render_inputs(user, data["model_name"], data["model_param"], data["ref_audio_id"],
                                            queue, text_given=bool(data["target_text"]))
    with discard_if_imported(avatar):
        return jobs.submit(
            HistoryType.VIDEO_GENERATION,
            tasks.generate_video,
            {"model_name": data["model_name"], "model_param": avatar.id, "avatar_id": avatar.id,
             "ref_audio_id": speaker.id, "gpu_choice": data["gpu_choice"], "target_text": data["target_text"]},
            owner=user, queue=queue, gpu=data["gpu_choice"],
        )
