from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_site.lib.fields import response_serializer
from avatar_site.lib.paths import media_url
from chat.recordings import save_recording
from chat.serializers import ChatSystemSerializer, SaveAudioSerializer
from chat.submission import submit_turn
from monitoring.history import RecordsHistoryOnError
from monitoring.models import HistoryType
from monitoring.responses import wait_and_answer


class SaveAudioView(APIView):
    @extend_schema(
        request=SaveAudioSerializer,
        responses=response_serializer(
            "SaveAudioResponse", audio_id=serializers.CharField(), duration=serializers.FloatField(),
            audio_url=serializers.CharField(help_text="The saved WAV, for its owner to play"),
            audio_path=serializers.CharField(help_text="Where the saved WAV lies on the server, usable by its "
                                                       "owner as /audio_clone's original_audio_path"),
        ),
    )
    def post(self, request):
        form = SaveAudioSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        recording = save_recording(form.validated_data["audio"], request.user)
        return Response({"status": "success", "message": "音频保存成功", "audio_id": str(recording.id),
                         "duration": round(recording.duration, 2), "audio_url": media_url(recording.path),
                         "audio_path": str(recording.path)})


class ChatSystemView(RecordsHistoryOnError, APIView):
    history_type = HistoryType.CHAT_SYSTEM

    @extend_schema(
        request=ChatSystemSerializer,
        responses=response_serializer(
            "ChatSystemResponse",
            response=serializers.CharField(required=False),
            video_path=serializers.CharField(required=False),
            transcript=serializers.CharField(required=False),
            conversation_id=serializers.CharField(required=False),
            timings=serializers.DictField(child=serializers.FloatField(), required=False),
        ),
    )
    def post(self, request):
        form = ChatSystemSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        task = submit_turn(form.validated_data, request.user)
        return wait_and_answer(
            task, form.validated_data["is_async"], "对话生成成功",
            lambda result: {key: result[key] for key in
                            ("response", "video_path", "transcript", "conversation_id", "timings")},
        )
