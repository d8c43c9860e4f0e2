from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_site.lib.fields import list_response_serializer, response_serializer
from monitoring.history import RecordsHistoryOnError
from monitoring.models import HistoryType
from monitoring.views import OwnRowDeleteView
from training.engines import talking_head_availability
from training.models import Avatar
from training.serializers import AvatarSerializer, ModelTrainingSerializer
from training.submission import submit_training


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
        task, avatar = submit_training(form.validated_data, request.user)
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
