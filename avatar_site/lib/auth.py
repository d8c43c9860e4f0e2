"""Who is asking, without a database query on every poll.

An API token's user and a session's user are remembered for AUTH_CACHE_SECONDS in the cache.
Deleting a token, or saving or deleting a user (deactivation, a new password, lost staff rights),
drops the entries at once in the process that made the change; with the default per-process cache,
other web processes may go on accepting them for at most that many seconds. 0 turns this off.
"""

from __future__ import annotations

import hashlib
from functools import partial

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def _token_key(key: str) -> str:
    # Hashed so that a shared cache never holds the secret itself.
    return "auth-token:" + hashlib.sha256(key.encode()).hexdigest()


def _user_key(user_id) -> str:
    return f"auth-user:{user_id}"


def _remembered(cache_key: str, look_up):
    """look_up()'s answer, from the cache while it is fresh; failures (exceptions, None) are never kept."""
    seconds = settings.AUTH_CACHE_SECONDS
    if seconds <= 0:
        return look_up()
    found = cache.get(cache_key)
    if found is None:
        found = look_up()
        if found is not None:
            cache.set(cache_key, found, seconds)
    return found


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication; its lookup (a joined query) was ~40 % of a /api/status poll."""

    def authenticate_credentials(self, key: str):
        return _remembered(_token_key(key), partial(super().authenticate_credentials, key))


class CachedModelBackend(ModelBackend):
    """Django's ModelBackend; loading the session's user is a query on every page and poll."""

    def get_user(self, user_id):
        return _remembered(_user_key(user_id), partial(super().get_user, user_id))


def forget_token(sender, instance: Token, **kwargs) -> None:
    cache.delete(_token_key(instance.key))


def forget_user(sender, instance, **kwargs) -> None:
    cache.delete(_user_key(instance.pk))
    for key in Token.objects.filter(user_id=instance.pk).values_list("key", flat=True):
        cache.delete(_token_key(key))


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's, with two changes: a browser's same-origin request needs no CSRF token, and the
    refusal says what to send, in the reader's language (DRF's own is English)."""

    def enforce_csrf(self, request):
        # Browsers say where a request comes from in Sec-Fetch-Site, which no script can set: a
        # same-origin request is no forgery (the spec's client posts with a bare fetch(), no token).
        # Browsers without Fetch Metadata, and other sites, still need the token.
        if request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin":
            return
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as refused:
            # Django's reason stays in (no token, or an Origin not in CSRF_TRUSTED_ORIGINS…).
            reason = str(refused.detail).removeprefix("CSRF Failed: ")
            raise exceptions.PermissionDenied(_(
                "CSRF check failed (%(reason)s): a client logged in by session sends the csrftoken cookie's "
                "value in the X-CSRFToken header, from an origin the site trusts (API clients may use "
                "Authorization: Token … instead).") % {"reason": reason}) from None


class SessionAuthenticationScheme(SessionScheme):
    """The OpenAPI schema's cookieAuth for our subclass (drf-spectacular matches DRF's class exactly)."""

    target_class = "avatar_site.lib.auth.SessionAuthentication"
