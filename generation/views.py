from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from avatar_site.lib.errors import ApiError, NotFound
from avatar_site.lib.fields import response_serializer
from avatar_site.views import MediaFileView
from generation import tasks
from generation.serializers import VideoGenerationSerializer
from monitoring import jobs
from monitoring.history import RecordsHistoryOnError
from monitoring.models import HistoryType
from monitoring.responses import wait_and_answer
from training.engines import get_talking_head_engine
from training.models import Avatar
from voices.models import Speaker


def resolve_render_inputs(request, model_name: str, model_param: str, ref_audio_id: str, text: str):
    """Check the avatar, its engine and the speaker a render request names; shared with chat."""
    engine = get_talking_head_engine(model_name)
    avatar = Avatar.objects.visible_to(request.user).get_by_model_param(model_param)
    if avatar.status != Avatar.Status.READY:
        raise ApiError(f"model_param: avatar {avatar.id} is not ready ({avatar.get_status_display()}).")
    if avatar.engine != model_name:
        raise ApiError(f"model_param: avatar {avatar.id} was trained with {avatar.engine}, not {model_name}.")
    speaker = Speaker.objects.visible_to(request.user).ready().filter(pk=ref_audio_id).first()
    if speaker is None:
        raise NotFound(f"ref_audio_id: no cloned voice {ref_audio_id!r}; see /api/cloned-audios.")
    if not text and not engine.text_optional:
        raise ApiError(f"target_text: required for {model_name}.")
    return avatar, speaker


class VideoGenerationView(RecordsHistoryOnError, APIView):
    history_type = HistoryType.VIDEO_GENERATION

    @extend_schema(
        request=VideoGenerationSerializer,
        responses=response_serializer("VideoGenerationResponse", video_path=serializers.CharField(required=False)),
    )
    def post(self, request):
        form = VideoGenerationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        queue = jobs.queue_for(data["gpu_choice"])
        avatar, speaker = resolve_render_inputs(
            request, data["model_name"], data["model_param"], data["ref_audio_id"], data["target_text"]
        )
        task = jobs.submit(
            HistoryType.VIDEO_GENERATION,
            tasks.generate_video,
            {"model_name": data["model_name"], "model_param": data["model_param"], "avatar_id": avatar.id,
             "ref_audio_id": speaker.id, "gpu_choice": data["gpu_choice"], "target_text": data["target_text"]},
            owner=request.user, queue=queue, gpu=data["gpu_choice"],
        )
        return wait_and_answer(
            task, data["is_async"], "视频生成成功", lambda result: {"video_path": result["video_path"]}
        )


class VideoFileView(MediaFileView):
    """The spec's /video/<filename>: rendered videos, for their owners."""

    folder = "videos"

    @extend_schema(responses={(200, "video/mp4"): OpenApiTypes.BINARY})
    def get(self, request, filename: str):
        return super().get(request, filename)
