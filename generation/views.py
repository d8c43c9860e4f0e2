from __future__ import annotations

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from avatar_site.lib.fields import response_serializer
from avatar_site.views import MediaFileView
from generation.serializers import VideoGenerationSerializer
from generation.submission import submit_render
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
        task = submit_render(data, request.user)
        return wait_and_answer(
            task, data["is_async"], "视频生成成功", lambda result: {"video_path": result["video_path"]}
        )


class VideoFileView(MediaFileView):
    """The spec's /video/<filename>: rendered videos, for their owners."""

    folder = "videos"

    @extend_schema(responses={(200, "video/mp4"): OpenApiTypes.BINARY})
    def get(self, request, filename: str):
        return super().get(request, filename)
