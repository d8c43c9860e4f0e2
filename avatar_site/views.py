from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.views import APIView

from avatar_site.lib import links
from avatar_site.lib.errors import NotFound
from avatar_site.lib.media_access import may_read
from avatar_site.lib.paths import confine
from avatar_site.lib.serving import ranged_file_response


class HasSignedLink(BasePermission):
    """A valid ``sig`` lets the request in; the view then asks whether its signer may read the file."""

    def has_permission(self, request, view) -> bool:
        return links.signer_id(request) is not None


def _signer_may_read(request, relative: PurePosixPath) -> bool:
    signer = links.signer_of(request)
    return signer is not None and may_read(signer, relative)


class MediaFileView(APIView):
    """Files under MEDIA_ROOT for their owners (and staff), or for whoever holds a signed link to
    one (avatar_site/lib/links.py), with Range support so players can seek."""

    folder = ""  # a subfolder of MEDIA_ROOT this view is limited to
    permission_classes = [IsAuthenticated | HasSignedLink]

    def perform_content_negotiation(self, request, force=False):
        # Players ask for video/* or audio/*; errors still answer JSON rather than 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, path: str):
        root = (settings.MEDIA_ROOT / self.folder).resolve()
        target = confine(path, [root], field="path")
        relative = PurePosixPath(target.relative_to(settings.MEDIA_ROOT.resolve()).as_posix())
        hidden = any(part.startswith(".") for part in relative.parts)  # partial outputs, scratch files
        allowed = ((request.user.is_authenticated and may_read(request.user, relative))
                   or _signer_may_read(request, relative))
        if hidden or not target.is_file() or not allowed:
            raise NotFound(_("No such file."))
        return ranged_file_response(request.headers.get("Range"), target, request.headers.get("If-Range"))




def bad_request(request, exception=None):
    """Django's own 400s (a Host not in ALLOWED_HOSTS, a malformed request line)."""
    if request.path.startswith(settings.API_PATH_PREFIXES):
        return JsonResponse({"status": "error", "message": _("Bad request.")}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request, exception=None):
    if request.path.startswith(settings.API_PATH_PREFIXES):
        return JsonResponse({"status": "error", "message": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(settings.API_PATH_PREFIXES):
        return JsonResponse({"status": "error", "message": _("Internal error.")}, status=500)
    return defaults.server_error(request)
