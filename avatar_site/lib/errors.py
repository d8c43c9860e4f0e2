"""API errors and the exception handler that gives every error the spec's shape.

Every error answer is ``{"status": "error", "message": "..."}`` with a meaningful HTTP status.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

# Messages of DRF and Django that their zh-hans catalogs lack or get wrong (Django's says "empty
# strings are not allowed" for NUL): the site's catalog, read first, has them.
UPSTREAM_MESSAGES = (gettext_noop("No data provided"), gettext_noop("Null characters are not allowed."))


class ApiError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("Bad request.")


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = gettext_lazy("Not found.")


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("Conflict.")


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("Upload too large.")


class UnsupportedMedia(ApiError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = gettext_lazy("Unsupported media.")


class Unprocessable(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("The input cannot be processed.")


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("Service unavailable.")


def error_response(message: str, http_status: int) -> Response:
    return Response({"status": "error", "message": message}, status=http_status)


def flatten_detail(detail) -> str:
    """Turn DRF's nested error details into one readable line: 'field: problem; field: problem'."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = flatten_detail(value)
            parts.append(text if field in ("non_field_errors", "detail")
                         else _("%(field)s: %(message)s") % {"field": field, "message": text})
        return "; ".join(parts)
    if isinstance(detail, (list, tuple)):
        return " ".join(flatten_detail(item) for item in detail)
    if getattr(detail, "code", None) == "null":
        return _(str(detail))  # DRF's "No data provided" is built without gettext
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):  # Django's own message names a setting, in English
        exc = PayloadTooLarge(_("The request's form fields or JSON body are larger than %(limit)s; send long "
                                "content as a file upload.") % {
            "limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)})
    elif isinstance(exc, Http404):
        exc = NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = ApiError(str(exc))
    elif isinstance(exc, SuspiciousOperation):  # Django answers these 400 too; the detail stays in the log
        logging.getLogger("django.security").warning("%s: %s", type(exc).__name__, exc)
        exc = ApiError()

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        return error_response(_("Internal error; the administrator can find the details in the log."), 500)
    response.data = {"status": "error", "message": flatten_detail(response.data)}
    return response
