import pytest

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/status"), ("get", "/api/cloned-audios"), ("get", "/api/avatars"),
    ("get", "/api/history/video_generation"), ("get", "/api/tasks/x"), ("post", "/api/tasks/x/cancel"),
    ("post", "/video_generation"), ("post", "/model_training"), ("post", "/audio_clone"),
    ("post", "/chat_system"), ("post", "/save_audio"), ("get", "/video/x.mp4"), ("get", "/media/x.wav"),
]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_every_endpoint_requires_authentication(anonymous_api, method, path):
    response = getattr(anonymous_api, method)(path)

    assert response.status_code == 401
    assert response.json()["status"] == "error"


def test_token_authentication_works(anonymous_api, user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)

    response = anonymous_api.get("/api/status", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200


def test_the_openapi_schema_describes_every_endpoint(anonymous_api):
    response = anonymous_api.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/status", "/api/cloned-audios", "/api/avatars", "/api/history/{history_type}", "/api/tasks/{task_id}",
        "/api/tasks/{task_id}/cancel", "/video_generation", "/model_training", "/audio_clone", "/chat_system",
        "/save_audio", "/video/{filename}",
    }
    assert expected <= set(paths)
    form = paths["/model_training"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["$ref"].endswith("ModelTrainingRequest")
    for deleting in ("/api/avatars/{avatar_id}", "/api/cloned-audios/{audio_id}"):  # 200 with a message, not 204
        assert set(paths[deleting]["delete"]["responses"]) >= {"200"} and "204" not in paths[deleting]["delete"]["responses"]


def test_the_docs_page_loads_offline(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn.jsdelivr" not in response.content


@pytest.mark.parametrize(("fetch_site", "refused"), [("same-origin", False), ("same-site", True),
                                                     ("cross-site", True), ("none", True)])
def test_a_browsers_same_origin_post_needs_no_csrf_token(user, fetch_site, refused):
    """The spec's client posts with a bare fetch(); the browser says it comes from the site itself."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/save_audio", {}, HTTP_SEC_FETCH_SITE=fetch_site)

    assert (response.status_code == 403) is refused
    if not refused:
        assert response.status_code == 400 and "audio" in response.json()["message"]


def test_a_session_post_without_csrf_token_is_refused(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/save_audio", {})
    chinese = client.post("/save_audio", {}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 403
    assert response.json()["status"] == "error"
    assert response.json()["message"].startswith("CSRF check failed (CSRF cookie not set.): ")
    assert "X-CSRFToken header" in response.json()["message"]
    assert "X-CSRFToken" in chinese.json()["message"] and "CSRF 校验失败" in chinese.json()["message"]


def test_the_schema_describes_both_ways_to_sign_in(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    assert set(schema["components"]["securitySchemes"]) == {"cookieAuth", "tokenAuth"}
    assert {"cookieAuth": []} in schema["paths"]["/save_audio"]["post"]["security"]


@pytest.mark.parametrize("path", ["/api/nothing-here", "/video/%0Aname", "/media/"])
def test_unmatched_api_paths_answer_json(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Not found."}


def test_a_host_the_site_does_not_serve_gets_a_json_400_on_api_paths(anonymous_api, client):
    api_answer = anonymous_api.get("/api/status", HTTP_HOST="203.0.113.5")
    page_answer = client.get("/pages/status", HTTP_HOST="203.0.113.5")

    assert api_answer.status_code == 400
    assert api_answer.json() == {"status": "error", "message": "Bad request."}
    assert page_answer.status_code == 400


@pytest.mark.parametrize("accept", [
    "text/html,application/xhtml+xml,*/*;q=0.8",  # a browser opening a status_url
    "text/html",
    "video/mp4",
])
def test_answers_are_json_whatever_the_client_accepts(api, anonymous_api, accept):
    listed = api.get("/api/cloned-audios", HTTP_ACCEPT=accept)
    refused = api.post("/video_generation", {"model_name": "builtin"}, HTTP_ACCEPT=accept)
    unauthenticated = anonymous_api.get("/api/status", HTTP_ACCEPT=accept)

    assert (listed.status_code, listed["Content-Type"]) == (200, "application/json")
    assert listed.json()["status"] == "success"
    assert (refused.status_code, refused["Content-Type"]) == (400, "application/json")
    assert refused.json()["status"] == "error"
    assert (unauthenticated.status_code, unauthenticated["Content-Type"]) == (401, "application/json")


def test_the_schema_still_answers_in_the_format_asked_for(anonymous_api):
    yaml = anonymous_api.get("/api/schema/")
    json_schema = anonymous_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert json_schema.json()["openapi"].startswith("3.")
