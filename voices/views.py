from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_site.lib.fields import list_response_serializer, response_serializer
from monitoring.history import RecordsHistoryOnError
from monitoring.models import HistoryType
from monitoring.responses import wait_and_answer
from monitoring.views import OwnRowDeleteView
from voices.models import Speaker, normalise_voice_id
from voices.serializers import AudioCloneSerializer, ClonedAudioSerializer
from voices.submission import submit_clone, submit_speech


class AudioCloneView(RecordsHistoryOnError, APIView):
    history_type = HistoryType.AUDIO_CLONE

    @extend_schema(
        request=AudioCloneSerializer,
        responses=response_serializer(
            "AudioCloneResponse",
            speaker_id=serializers.CharField(required=False),
            cloned_audio_path=serializers.CharField(required=False),
        ),
    )
    def post(self, request):
        form = AudioCloneSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data["mode"] == "clone":
            task, speaker = submit_clone(data, request.user)
            return wait_and_answer(task, data["is_async"], "音频特征提取成功", lambda result: {"speaker_id": speaker.id})
        task, speaker = submit_speech(data, request.user)
        return wait_and_answer(
            task, data["is_async"], "音频生成成功",
            lambda result: {"cloned_audio_path": result["cloned_audio_path"], "speaker_id": speaker.id},
        )


class ClonedAudioView(OwnRowDeleteView):
    model, noun, lookup_kwarg, deleted_message = Speaker, gettext_lazy("voice"), "audio_id", "声音已删除"
    row_id = staticmethod(normalise_voice_id)


class ClonedAudioListView(APIView):
    @extend_schema(responses=list_response_serializer("ClonedAudioList", "audios", ClonedAudioSerializer))
    def get(self, request):
        speakers = Speaker.objects.visible_to(request.user).ready().listed()
        return Response({"status": "success", "audios": speakers, "total_count": len(speakers)})
