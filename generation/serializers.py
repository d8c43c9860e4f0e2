from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from avatar_site.lib.fields import JobRequestSerializer, PathOrFileField, SpokenTextField
from voices.serializers import VoiceIdField


class RenderRequestSerializer(JobRequestSerializer):
    """What every request rendering an avatar names: /video_generation and /chat_system."""

    model_name = serializers.ChoiceField(choices=[])
    model_param = PathOrFileField(help_text="Avatar id (see /api/avatars), its folder, or an uploaded avatar .zip")
    ref_audio_id = VoiceIdField(new=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_name"].choices = list(settings.TALKING_HEAD_ENGINES)


class VideoGenerationSerializer(RenderRequestSerializer):
    gpu_choice = serializers.CharField(max_length=32)
    target_text = SpokenTextField(required=False, allow_blank=True, default="")
