"""Signed links to media files, for clients that cannot send their credentials with them.

A ``<video>`` or ``<audio>`` element sends the site's cookies but no ``Authorization`` header, so
a client that signs in with an API token (an app on another origin) could not play the videos it
made. Answers to such clients carry media links with a ``sig`` parameter that stands in for the
owner's credentials on that one file for MEDIA_LINK_SECONDS; the links stored in tasks and history
stay plain, and a fresh signature is made each time one is shown. Session clients (the pages, the
spec's same-origin fetch) get plain links, exactly as the spec shows them.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from rest_framework import renderers
from rest_framework.authentication import TokenAuthentication

#: The answers' fields that hold a link to a media file (tasks, history, the job answers, /save_audio).
LINK_FIELDS = {"video_path", "cloned_audio_path", "audio_url"}
_SALT = "avatar_site.media-link"


def signed(url: str) -> str:
    """``url`` (a path of /video/ or MEDIA_URL) with a signature good for MEDIA_LINK_SECONDS."""
    signature = signing.TimestampSigner(salt=_SALT).sign(url)[len(url) + 1:]
    return f"{url}?sig={signature}"


def has_valid_signature(request) -> bool:
    """Whether the request's ``sig`` signs its own path and has not expired.

    The spec's client appends ``'?t=' + time`` to every video link to defeat caches, which turns
    ``…?sig=S`` into ``…?sig=S?t=…``: what follows a second ``?`` is not part of the signature.
    """
    signature = request.GET.get("sig", "").split("?", 1)[0]
    if not signature:
        return False
    try:
        signing.TimestampSigner(salt=_SALT).unsign(f"{request.path}:{signature}",
                                                   max_age=settings.MEDIA_LINK_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one too
        return False
    return True


def with_signed_links(data):
    """``data`` (an answer's dicts and lists) with the media links the server wrote signed.

    Never inside ``parameters``: those are what a client sent (history keeps every field), and a
    ``video_path`` there could name anyone's file.
    """
    if isinstance(data, dict):
        return {
            key: value if key == "parameters"
            else signed(value) if key in LINK_FIELDS and isinstance(value, str) and value.startswith("/")
            else with_signed_links(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [with_signed_links(item) for item in data]
    return data


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, with signed media links for clients that authenticated with a token."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        request, response = context.get("request"), context.get("response")
        # Only answers from a view hold links, and by then DRF has authenticated the request
        # (asked earlier, successful_authenticator would authenticate it and could raise here).
        if (response is not None and response.status_code < 300
                and isinstance(request.successful_authenticator, TokenAuthentication)):
            data = with_signed_links(data)
        return super().render(data, accepted_media_type, renderer_context)
