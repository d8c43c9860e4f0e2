"""Form fields and serializer bases shared by the API's endpoints."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "string", "format": "binary"}]})
class PathOrFileField(serializers.Field):
    """A form field that takes either a server path (string) or an uploaded file."""

    default_error_messages = {
        "invalid": gettext_lazy("Give a path or upload a file."),
        "null_characters": gettext_lazy("NUL characters are not allowed."),
    }

    def to_internal_value(self, data):
        if isinstance(data, UploadedFile):
            return data
        if isinstance(data, str) and "\x00" in data:
            self.fail("null_characters")  # before the value reaches a query: PostgreSQL refuses NUL
        if isinstance(data, str) and data.strip():
            return data.strip()
        if data == "" and not self.required:
            return None  # the spec's "leave empty" in a JSON body (forms already turn "" into None)
        self.fail("invalid")

    def to_representation(self, value):
        return str(value)


class SpokenTextField(serializers.CharField):
    """Text a voice will speak: at most MAX_TEXT_CHARS characters (read when validating, so the
    setting can change without a restart of this module's users)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > settings.MAX_TEXT_CHARS:
            raise serializers.ValidationError(_("Longer than the limit of %(limit)s characters.")
                                              % {"limit": settings.MAX_TEXT_CHARS})
        return value


class JobRequestSerializer(serializers.Serializer):
    """Base for requests that start a job: ``async=1`` answers 202 at once instead of waiting."""

    def get_fields(self):
        fields = super().get_fields()
        # "async" is a Python keyword, so the field is added here rather than as an attribute.
        fields["async"] = serializers.BooleanField(
            required=False, default=False, source="is_async", help_text="1: answer 202 with task_id at once"
        )
        return fields


def response_serializer(name: str, **fields) -> serializers.Serializer:
    """An OpenAPI description of a spec response: ``status``, ``message``, ``task_id`` and ``fields``."""
    return inline_serializer(
        name,
        {
            "status": serializers.ChoiceField(choices=["success", "error", "accepted"]),
            "message": serializers.CharField(required=False),
            "task_id": serializers.CharField(required=False),
            **fields,
        },
    )


def list_response_serializer(name: str, key: str, item_serializer) -> serializers.Serializer:
    """An OpenAPI description of the spec's list answers: ``status``, ``<key>`` and ``total_count``."""
    return inline_serializer(
        name,
        {"status": serializers.CharField(), key: item_serializer(many=True), "total_count": serializers.IntegerField()},
    )
