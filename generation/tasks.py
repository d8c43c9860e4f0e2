from __future__ import annotations

from generation.renderer import render_speech, video_output_path, video_url
from training.models import Avatar
from voices.models import Speaker


def generate_video(task, progress) -> dict:
    params = task.parameters
    avatar = Avatar.objects.for_job(task).get(pk=params["avatar_id"])
    speaker = Speaker.objects.for_job(task).get(pk=params["ref_audio_id"])
    output = render_speech(
        avatar, speaker, params.get("target_text", ""), task.gpu, video_output_path(task.pk), progress
    )
    return {"video_path": video_url(output), "avatar_id": avatar.id, "engine": avatar.engine, "files": [str(output)]}
