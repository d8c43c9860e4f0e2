from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_site.lib.errors import ApiError, Unprocessable
from avatar_site.lib.fields import list_response_serializer, response_serializer
from avatar_site.lib.uploads import as_given, discard_upload, is_upload, media_input
from avatar_site.views import may_use_input
from monitoring import jobs
from monitoring.history import RecordsHistoryOnError
from monitoring.models import HistoryType
from monitoring.views import OwnRowDeleteView
from training import tasks
from training.engines import get_talking_head_engine, talking_head_availability
from training.engines.base import EngineError
from training.models import Avatar
from training.serializers import AvatarSerializer, ModelTrainingSerializer


class ModelTrainingView(RecordsHistoryOnError, APIView):
    history_type = HistoryType.MODEL_TRAINING

    @extend_schema(
        request=ModelTrainingSerializer,
        responses=response_serializer(
            "ModelTrainingResponse", speaker_id=serializers.CharField(), avatar_id=serializers.CharField()
        ),
    )
    def post(self, request):
        form = ModelTrainingSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        queue = jobs.queue_for(data["gpu_choice"])
        engine = get_talking_head_engine(data["model_choice"], queue)
        try:
            params = engine.validate_params(data.get("custom_params", {}))
        except ValueError as exc:
            raise ApiError(_("custom_params: %(reason)s") % {"reason": exc}) from None
        source, info = media_input(
            data["ref_video"], "ref_video", need_video=True, folder="uploads/videos",
            may_use=partial(may_use_input, request.user),
        )
        try:
            engine.check_reference(info)
        except EngineError as exc:
            discard_upload(source, data["ref_video"])
            raise Unprocessable(_("ref_video: %(reason)s") % {"reason": exc}) from None
        try:
            avatar = Avatar.create_with_unique_id(
                engine=data["model_choice"], source_video=str(source), source_uploaded=is_upload(data["ref_video"]),
                epochs=data["epoch"],
                params=params, gpu=data["gpu_choice"], owner=request.user,
            )
        except Exception:
            discard_upload(source, data["ref_video"])
            raise
        try:
            task = jobs.submit(
                HistoryType.MODEL_TRAINING,
                tasks.train,
                {"model_choice": avatar.engine, "ref_video": as_given(data["ref_video"]), "source_path": str(source),
                 "gpu_choice": avatar.gpu,
                 "epoch": avatar.epochs, "custom_params": params, "avatar_id": avatar.id},
                owner=request.user, queue=queue, gpu=avatar.gpu,
            )
        except jobs.TaskNotQueued:
            raise  # its task failed like any job, and left the avatar failed
        except Exception:
            avatar.delete()  # no task was made for it; its uploaded video goes with it
            raise
        return Response(
            {"status": "success", "task_id": task.pk, "message": "模型训练开始",
             "speaker_id": avatar.id, "avatar_id": avatar.id},
            status=status.HTTP_200_OK,
        )


class AvatarListView(APIView):
    @extend_schema(responses=list_response_serializer("AvatarList", "avatars", AvatarSerializer))
    def get(self, request):
        avatars = Avatar.objects.visible_to(request.user)
        if request.query_params.get("all") not in ("1", "true"):
            avatars = avatars.ready()
        return Response({"status": "success", "avatars": AvatarSerializer(avatars, many=True).data,
                         "total_count": avatars.count()})


class AvatarView(OwnRowDeleteView):
    model, noun, lookup_kwarg, deleted_message = Avatar, gettext_lazy("avatar"), "avatar_id", "模型已删除"


class EngineListView(APIView):
    """Which talking-head engines can run here, and for the others what to install."""

    @extend_schema(responses=response_serializer("EngineListResponse", engines=serializers.ListField()))
    def get(self, request):
        engines = talking_head_availability()
        return Response({"status": "success", "engines": engines})
