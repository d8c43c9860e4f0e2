from __future__ import annotations

from chat.models import Conversation, Recording
from chat.pipeline import chat_turn
from generation.renderer import video_output_path, video_url
from training.models import Avatar
from voices.models import Speaker


def answer_recording(task, progress) -> dict:
    params = task.parameters
    output = video_output_path(task.pk)
    result = chat_turn(
        task,
        Conversation.objects.get(pk=params["conversation_id"]),
        Recording.objects.get(pk=params["recording_id"]).path,
        Avatar.objects.for_job(task).get(pk=params["avatar_id"]),
        Speaker.objects.for_job(task).get(pk=params["ref_audio_id"]),
        params["api_choice"],
        task.gpu,
        output,
        progress,
    )
    return {
        **result,
        "video_path": video_url(output),
        "conversation_id": params["conversation_id"],
        "files": [str(output)],
    }
