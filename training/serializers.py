from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from avatar_site.lib.fields import PathOrFileField
from training.models import Avatar


def parse_custom_params(text: str) -> dict:
    """The spec shows both JSON (``{"lr": 0.001}``) and ``k=v[,k=v]`` (``lr=0.001``)."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise serializers.ValidationError(_("not valid JSON (%(error)s)") % {"error": exc.msg}) from None
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("JSON must be an object of key/value pairs"))
        return value
    params = {}
    for pair in text.replace(";", ",").split(","):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise serializers.ValidationError(_("%(pair)r is neither JSON nor key=value") % {"pair": pair.strip()})
        params[key.strip()] = value.strip()
    return params


class ModelTrainingSerializer(serializers.Serializer):
    model_choice = serializers.ChoiceField(choices=[])
    ref_video = PathOrFileField(help_text=gettext_lazy("Path inside the input roots, or an uploaded video"))
    gpu_choice = serializers.CharField(max_length=32)
    epoch = serializers.IntegerField(min_value=1, max_value=100000, default=100)
    custom_params = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                 help_text=gettext_lazy("Not in the spec: what to call the avatar "
                                                        "(default: the reference video's file name)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_choice"].choices = list(settings.TALKING_HEAD_ENGINES)

    def validate_custom_params(self, value: str) -> dict:
        return parse_custom_params(value)


class AvatarSerializer(serializers.ModelSerializer):
    model_param = serializers.CharField(source="id")
    created_at = serializers.DateTimeField(format="%Y-%m-%d %H:%M:%S")
    folder = serializers.SerializerMethodField()

    class Meta:
        model = Avatar
        fields = ["id", "model_param", "name", "engine", "status", "epochs", "params", "metrics", "gpu", "created_at",
                  "folder"]

    def get_folder(self, avatar: Avatar) -> str:
        return str(avatar.folder)
