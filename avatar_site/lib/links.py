"""Signed links to media files, for clients that cannot send their credentials with them.

A ``<video>`` or ``<audio>`` element sends the site's cookies but no ``Authorization`` header, so
a client that signs in with an API token (an app on another origin) could not play the videos it
made. Answers to such clients carry media links with a ``sig`` parameter that lends the user's
own right to read that one file for MEDIA_LINK_SECONDS: the signature names the user, and the
file is served only if that user (still active) may read it then, so a link signed for a path a
client planted in its data opens nothing its signer could not. The links stored in tasks and
history stay plain, and a fresh signature is made each time one is shown. Session clients (the
pages, the spec's same-origin fetch) get plain links, exactly as the spec shows them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from rest_framework import renderers
from rest_framework.authentication import TokenAuthentication

#: The answers' fields that hold a link to a media file (tasks, history, the job answers, /save_audio).
LINK_FIELDS = {"video_path", "cloned_audio_path", "audio_url"}
_SALT = "avatar_site.media-link"


def signed(url: str, user) -> str:
    """``url`` (a path of /video/ or MEDIA_URL) with a signature lending ``user``'s right to read it."""
    value = f"{url}:{user.pk}"
    signature = signing.TimestampSigner(salt=_SALT).sign(value)[len(url) + 1:]  # "<user id>:<time>:<mac>"
    return f"{url}?sig={signature}"


def signer_id(request) -> str | None:
    """The id of the user whose signature the request's ``sig`` carries for its own path,
    unexpired; None otherwise.

    The spec's client appends ``'?t=' + time`` to every video link to defeat caches, which turns
    ``…?sig=S`` into ``…?sig=S?t=…``: what follows a second ``?`` is not part of the signature.
    """
    signature = request.GET.get("sig", "").split("?", 1)[0]
    if not signature:
        return None
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(f"{request.path}:{signature}",
                                                           max_age=settings.MEDIA_LINK_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    return value.rsplit(":", 1)[1]


def signer_of(request):
    """The active user who signed the request's link (see ``signer_id``), or None."""
    user_id = signer_id(request)
    return None if user_id is None else get_user_model().objects.filter(pk=user_id, is_active=True).first()


def with_signed_links(data, user):
    """``data`` (an answer's dicts and lists) with its media links signed for ``user``.

    Not inside ``parameters``: those are what a client sent (history keeps every field), not links
    the server made (signed, they would open nothing more, as the file view asks whether the
    signer may read the file).
    """
    if isinstance(data, dict):
        return {
            key: value if key == "parameters"
            else signed(value, user) if key in LINK_FIELDS and isinstance(value, str) and value.startswith("/")
            else with_signed_links(value, user)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [with_signed_links(item, user) for item in data]
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
            data = with_signed_links(data, request.user)
        return super().render(data, accepted_media_type, renderer_context)
