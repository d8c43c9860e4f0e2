"""Request parsers: JSON whose strings the database and the response renderer can hold."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def unstorable_text(value) -> str | None:
    """Why a string inside ``value`` cannot be stored and sent back, or None when all can.

    JSON may escape lone UTF-16 surrogates (``"\\ud800"``) and NUL: Python accepts both, but the
    response renderer cannot encode a surrogate and PostgreSQL refuses NUL in text and jsonb, so
    a value saved with either breaks every later listing of it.
    """
    pending = [value]
    while pending:  # not recursive: JSON nests as deep as the decoder allows
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return _("NUL characters are not allowed")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _("unpaired surrogate characters (\\ud800–\\udfff) are not allowed")
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # DRF reads a JSON body whole, past DATA_UPLOAD_MAX_MEMORY_SIZE, which Django applies only
        # to forms: a body of hundreds of megabytes would be parsed in memory before any check.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            stream = io.BytesIO(body)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
        if reason := unstorable_text(data):
            raise ParseError(_("JSON parse error - %(reason)s.") % {"reason": reason})
        return data
