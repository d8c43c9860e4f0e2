from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from avatar_site.lib.fields import JobRequestSerializer, PathOrFileField, SpokenTextField
from voices.models import normalise_voice_id, speaker_id_validator


class VoiceIdField(serializers.CharField):
    """An audio_id or gen_audio_id: NFKC-normalised (what looks alike is one id), then checked;
    ``new=False`` for one that names an existing voice (an unknown one is 404, not a format error)."""

    def __init__(self, new: bool = True, **kwargs):
        super().__init__(max_length=64, validators=[speaker_id_validator] if new else [], **kwargs)

    def to_internal_value(self, data):
        return normalise_voice_id(super().to_internal_value(data))


class AudioCloneSerializer(JobRequestSerializer):
    """The spec's /audio_clone form: clone mode (original_audio_path + new audio_id) or
    generate mode (existing audio_id + gen_audio_id + generate_text)."""

    original_audio_path = PathOrFileField(required=False, allow_null=True, help_text="Path or upload (clone mode)")
    audio_id = VoiceIdField()
    target_audio_id = serializers.CharField(required=False, allow_blank=True, help_text="Reserved; leave empty")
    gen_audio_id = VoiceIdField(required=False, allow_blank=True)
    generate_text = SpokenTextField(required=False, allow_blank=True, trim_whitespace=True)
    prompt_text = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Transcript of the reference (clone mode)"
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    engine = serializers.CharField(required=False, allow_blank=True, max_length=32)
    def validate(self, attrs):
        cloning = bool(attrs.get("original_audio_path"))
        generating = bool(attrs.get("gen_audio_id") or attrs.get("generate_text"))
        if cloning and generating:
            raise serializers.ValidationError(
                _("Give either original_audio_path (clone mode) or gen_audio_id and generate_text (generate mode), not both.")
            )
        if not cloning and not generating:
            raise serializers.ValidationError(
                _("Give original_audio_path to clone a voice, or gen_audio_id and generate_text to speak text.")
            )
        if generating:
            if not attrs.get("gen_audio_id"):
                raise serializers.ValidationError({"gen_audio_id": _("Required in generate mode.")})
            if not attrs.get("generate_text"):
                raise serializers.ValidationError({"generate_text": _("Required in generate mode.")})
        attrs["mode"] = "clone" if cloning else "generate"
        return attrs


class ClonedAudioSerializer(serializers.Serializer):
    """The shape of an /api/cloned-audios item, for the OpenAPI schema (SpeakerQuerySet.listed builds it)."""

    id = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.CharField(help_text="YYYY-MM-DD HH:MM:SS")
    reference_audio = serializers.CharField(help_text="URL of the reference recording, or 'unknown'")
    status = serializers.CharField()
    engine = serializers.CharField()
