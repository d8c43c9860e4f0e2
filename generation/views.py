from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from avatar_site.lib.fields import response_serializer
from avatar_site.views import MediaFileView
from generation import tasks
from generation.renderer import check_render_inputs, discard_if_imported
from generation.serializers import VideoGenerationSerializer
from monitoring import jobs
from monitoring.history import RecordsHistoryOnError
from monitoring.models import HistoryType
from monitoring.responses import wait_and_answer


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
        avatar, speaker = check_render_inputs(
            request.user, data["model_name"], data["model_param"], data["ref_audio_id"], data["target_text"], queue
        )
        with discard_if_imported(avatar):
            task = jobs.submit(
                HistoryType.VIDEO_GENERATION,
                tasks.generate_video,
                {"model_name": data["model_name"], "model_param": avatar.id, "avatar_id": avatar.id,
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
