from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from generation.serializers import RenderRequestSerializer


class SaveAudioSerializer(serializers.Serializer):
    audio = serializers.FileField(help_text="The recording: webm, ogg, mp4/m4a, wav, mp3, flac or another common audio container")


class ChatSystemSerializer(RenderRequestSerializer):
    audio = serializers.FileField(help_text="The user's recording")
    api_choice = serializers.ChoiceField(choices=[])
    gpu_choice = serializers.CharField(max_length=32, required=False)
    conversation_id = serializers.UUIDField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["api_choice"].choices = list(settings.LLM_ENGINES)
