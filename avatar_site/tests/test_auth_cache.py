import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(user):
    return Token.objects.create(user=user)


def _status(client, key):
    return client.get("/api/status", HTTP_AUTHORIZATION=f"Token {key}")


def test_it_does_not_query_the_token_again_within_the_cache_time(anonymous_api, token):
    _status(anonymous_api, token.key)

    with CaptureQueriesContext(connection) as queries:
        response = _status(anonymous_api, token.key)

    assert response.status_code == 200
    assert not [q for q in queries if "authtoken_token" in q["sql"]]


def test_a_deleted_token_stops_working_at_once(anonymous_api, token):
    _status(anonymous_api, token.key)

    token.delete()

    assert _status(anonymous_api, token.key).status_code == 401


def test_a_deactivated_user_is_refused_at_once(anonymous_api, token, user):
    _status(anonymous_api, token.key)

    user.is_active = False
    user.save()

    assert _status(anonymous_api, token.key).status_code == 401


def test_a_deleted_user_is_refused_at_once(anonymous_api, token, user):
    _status(anonymous_api, token.key)

    user.delete()

    assert _status(anonymous_api, token.key).status_code == 401


def test_the_token_cache_can_be_turned_off(anonymous_api, token, settings):
    settings.AUTH_CACHE_SECONDS = 0
    _status(anonymous_api, token.key)

    with CaptureQueriesContext(connection) as queries:
        _status(anonymous_api, token.key)

    assert [q for q in queries if "authtoken_token" in q["sql"]]


def test_a_refused_key_is_not_remembered_as_refused(anonymous_api, user):
    key = "0123456789abcdef0123456789abcdef01234567"
    assert _status(anonymous_api, key).status_code == 401

    Token.objects.create(user=user, key=key)

    assert _status(anonymous_api, key).status_code == 200


def _user_queries(queries):
    return [q for q in queries if 'FROM "auth_user"' in q["sql"]]


def test_it_does_not_query_the_session_user_again_within_the_cache_time(client, user):
    client.force_login(user)
    client.get("/api/status")

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/status")

    assert response.status_code == 200
    assert not _user_queries(queries)


def test_a_deactivated_session_user_is_refused_at_once(client, user):
    client.force_login(user)
    client.get("/api/status")

    user.is_active = False
    user.save()

    assert client.get("/api/status").status_code == 401


def test_a_new_password_ends_other_sessions_at_once(client, user):
    client.force_login(user)
    client.get("/api/status")

    user.set_password("another-pw-456")
    user.save()

    assert client.get("/api/status").status_code == 401


def test_the_session_user_cache_can_be_turned_off(client, user, settings):
    settings.AUTH_CACHE_SECONDS = 0
    client.force_login(user)
    client.get("/api/status")

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/status")

    assert _user_queries(queries)
