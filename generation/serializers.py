from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from avatar_site.lib.fields import JobRequestSerializer, PathOrFileField


class RenderRequestSerializer(JobRequestSerializer):
    """What every request rendering an avatar names: /video_generation and /chat_system."""

    model_name = serializers.ChoiceField(choices=[])
    model_param = PathOrFileField(help_text="Avatar id (see /api/avatars), its folder, or an uploaded avatar .zip")
    ref_audio_id = serializers.CharField(max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_name"].choices = list(settings.TALKING_HEAD_ENGINES)


class VideoGenerationSerializer(RenderRequestSerializer):
    gpu_choice = serializers.CharField(max_length=32)
    target_text = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_target_text(self, value: str) -> str:
        if len(value) > settings.MAX_TEXT_CHARS:
            raise serializers.ValidationError(_("Longer than the limit of %(limit)s characters.")
                                              % {"limit": settings.MAX_TEXT_CHARS})
        return value
