from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_site.lib.engines import load_engine
from avatar_site.lib.errors import Conflict
from avatar_site.lib.fields import list_response_serializer, response_serializer
from avatar_site.lib.media_access import may_use_input
from avatar_site.lib.uploads import as_given, discard_upload, is_upload, media_input
from monitoring import jobs
from monitoring.history import RecordsHistoryOnError
from monitoring.models import HistoryType
from monitoring.responses import wait_and_answer
from monitoring.views import OwnRowDeleteView
from voices import tasks
from voices.models import Speaker
from voices.serializers import AudioCloneSerializer, ClonedAudioSerializer


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
            return self.clone(request, data)
        return self.generate(request, data)

    def clone(self, request, data):
        engine = data.get("engine") or settings.VOICE_ENGINE
        load_engine(settings.VOICE_ENGINES, engine, _("voice"))
        if Speaker.objects.filter(pk=data["audio_id"]).exists():
            raise Conflict(_("audio_id: speaker %(audio_id)r already exists.") % {"audio_id": data['audio_id']})
        source, _info = media_input(
            data["original_audio_path"], "original_audio_path", need_audio=True,
            may_use=partial(may_use_input, request.user),
        )
        try:
            with transaction.atomic():  # a savepoint, so that a taken id leaves a usable connection
                speaker = Speaker.objects.create(
                    id=data["audio_id"], name=data.get("name") or data["audio_id"], engine=engine,
                    owner=request.user, profile={"prompt_text": data.get("prompt_text", "")},
                )
        except IntegrityError:
            discard_upload(source, data["original_audio_path"])
            raise Conflict(_("audio_id: speaker %(audio_id)r already exists.")
                           % {"audio_id": data['audio_id']}) from None
        try:
            task = jobs.submit(
                HistoryType.AUDIO_CLONE,
                tasks.extract_voice,
                {"mode": "clone", "audio_id": speaker.id, "engine": engine, "source_path": str(source),
                 "source_uploaded": is_upload(data["original_audio_path"]),
                 "original_audio_path": as_given(data["original_audio_path"]),
                 "prompt_text": data.get("prompt_text", "")},
                owner=request.user,
            )
        except jobs.TaskNotQueued:
            raise  # its task failed like any job, and released the speaker
        except Exception:
            speaker.delete()  # no task was made for it: free the audio_id
            discard_upload(source, data["original_audio_path"])
            raise
        return wait_and_answer(task, data["is_async"], "音频特征提取成功", lambda result: {"speaker_id": speaker.id})

    def generate(self, request, data):
        speaker = Speaker.objects.visible_to(request.user).get_ready(data["audio_id"], "audio_id")
        task = jobs.submit(
            HistoryType.AUDIO_CLONE,
            tasks.generate_audio,
            {"mode": "generate", "audio_id": speaker.id, "gen_audio_id": data["gen_audio_id"],
             "generate_text": data["generate_text"], "engine": speaker.engine},
            owner=request.user,
        )
        return wait_and_answer(
            task, data["is_async"], "音频生成成功",
            lambda result: {"cloned_audio_path": result["cloned_audio_path"], "speaker_id": speaker.id},
        )


class ClonedAudioView(OwnRowDeleteView):
    model, noun, lookup_kwarg, deleted_message = Speaker, gettext_lazy("voice"), "audio_id", "声音已删除"


class ClonedAudioListView(APIView):
    @extend_schema(responses=list_response_serializer("ClonedAudioList", "audios", ClonedAudioSerializer))
    def get(self, request):
        speakers = Speaker.objects.visible_to(request.user).ready().listed()
        return Response({"status": "success", "audios": speakers, "total_count": len(speakers)})
