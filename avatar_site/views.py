from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.views import APIView

from avatar_site.lib.errors import NotFound
from avatar_site.lib.paths import confine
from avatar_site.lib.serving import ranged_file_response


class MediaFileView(APIView):
    """Files under MEDIA_ROOT (voices, references), for signed-in users, with Range support."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, path: str):
        target = confine(path, [settings.MEDIA_ROOT], field="path")
        if not target.is_file() or any(part.startswith(".") for part in target.relative_to(settings.MEDIA_ROOT).parts):
            raise NotFound("No such file.")
        return ranged_file_response(request.headers.get("Range"), target)

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
