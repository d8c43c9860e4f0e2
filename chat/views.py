from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_site.lib.errors import NotFound
from avatar_site.lib.fields import response_serializer
from avatar_site.lib.paths import media_url
from chat import tasks
from chat.engines import get_language_model, get_recognizer
from chat.models import Conversation
from chat.recordings import save_recording
from chat.serializers import ChatSystemSerializer, SaveAudioSerializer
from generation.renderer import check_render_inputs, discard_if_imported
from monitoring import jobs
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
        data = form.validated_data
        gpu = data.get("gpu_choice") or settings.GPU_QUEUES[0]
        queue = jobs.queue_for(gpu)
        get_recognizer(queue=queue)
        get_language_model(data["api_choice"])
        conversation = self.existing_conversation(request, data.get("conversation_id"))
        avatar, speaker = check_render_inputs(
            request.user, data["model_name"], data["model_param"], data["ref_audio_id"], "reply", queue
        )
        with discard_if_imported(avatar):
            recording = save_recording(data["audio"], request.user)
            conversation = conversation or Conversation.objects.create(owner=request.user)
            task = jobs.submit(
                HistoryType.CHAT_SYSTEM,
                tasks.answer_recording,
                {"model_name": data["model_name"], "model_param": avatar.id, "avatar_id": avatar.id,
                 "ref_audio_id": speaker.id, "api_choice": data["api_choice"], "gpu_choice": gpu,
                 "conversation_id": str(conversation.id), "recording_id": str(recording.id)},
                owner=request.user, queue=queue, gpu=gpu,
            )
        return wait_and_answer(
            task, data["is_async"], "对话生成成功",
            lambda result: {key: result[key] for key in
                            ("response", "video_path", "transcript", "conversation_id", "timings")},
        )

    def existing_conversation(self, request, conversation_id) -> Conversation | None:
        """The conversation a follow-up question names; None for a new one, created once the
        recording has been accepted, so refused recordings leave no empty conversations."""
        if conversation_id is None:
            return None
        conversation = Conversation.objects.filter(pk=conversation_id, owner=request.user).first()
        if conversation is None:
            raise NotFound(_("conversation_id: no conversation %(conversation_id)s.")
                           % {"conversation_id": conversation_id})
        return conversation
