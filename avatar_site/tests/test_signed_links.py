"""Token clients get media links a <video> element can open without the token (avatar_site/lib/links.py)."""

import pytest
from django.core import signing
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from monitoring.models import HistoryRecord, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def finished_video(media_root, owner, name: str, parameters: dict | None = None) -> Task:
    folder = media_root / "videos"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(name.encode() * 100)
    task = Task.create_with_unique_id("video_generation", handler="x", queue="GPU0", owner=owner)
    task.finish(Task.Status.SUCCEEDED, result={"video_path": f"/video/{name}"})
    HistoryRecord.objects.create(type="video_generation", status="completed", task=task, owner=owner,
                                 parameters=parameters or {}, result=task.result)
    return task


def test_it_gives_token_clients_a_link_that_plays_without_the_token(token_api, anonymous_api, media_root, user):
    task = finished_video(media_root, user, "mine.mp4")

    link = token_api.get(f"/api/tasks/{task.pk}").json()["result"]["video_path"]
    # The spec's client appends its cache buster with another "?".
    response = anonymous_api.get(link + "?t=1764892800000", HTTP_RANGE="bytes=0-3")

    assert link.startswith("/video/mine.mp4?sig=")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"mine"


def test_history_links_are_signed_but_not_what_the_client_sent(token_api, anonymous_api, media_root, user,
                                                               other_user):
    finished_video(media_root, other_user, "theirs.mp4")
    finished_video(media_root, user, "mine.mp4", parameters={"video_path": "/video/theirs.mp4"})

    row = token_api.get("/api/history/video_generation").json()["history"][0]

    assert row["parameters"]["video_path"] == "/video/theirs.mp4"
    assert anonymous_api.get(row["result"]["video_path"]).status_code == 200
    assert anonymous_api.get("/video/theirs.mp4").status_code == 401


def test_a_signature_opens_only_the_file_it_was_made_for(token_api, anonymous_api, media_root, user, other_user):
    task = finished_video(media_root, user, "mine.mp4")
    finished_video(media_root, other_user, "theirs.mp4")
    link = token_api.get(f"/api/tasks/{task.pk}").json()["result"]["video_path"]

    response = anonymous_api.get(link.replace("mine.mp4", "theirs.mp4"))

    assert response.status_code == 401
    assert response.json()["status"] == "error"


def test_an_expired_link_is_refused(anonymous_api, media_root, user, settings, monkeypatch):
    finished_video(media_root, user, "mine.mp4")
    settings.MEDIA_LINK_SECONDS = 60
    monkeypatch.setattr(signing.time, "time", lambda: 1_000_000.0)
    from avatar_site.lib.links import signed

    link = signed("/video/mine.mp4", user)
    monkeypatch.setattr(signing.time, "time", lambda: 1_000_061.0)

    assert anonymous_api.get(link).status_code == 401


def test_a_link_signed_for_a_file_the_signer_may_not_read_opens_nothing(token_api, anonymous_api, media_root,
                                                                        user, other_user):
    """Values a client planted in its own data (an imported avatar's params…) get signed too, but a
    signature only lends the signer's own rights."""
    from avatar_site.lib.links import signed

    finished_video(media_root, other_user, "theirs.mp4")
    (media_root / "uploads").mkdir()
    (media_root / "uploads" / "secret.wav").write_bytes(b"RIFF")

    for path in ("/video/theirs.mp4", "/media/uploads/secret.wav"):
        assert anonymous_api.get(signed(path, user)).status_code == 404
    assert anonymous_api.get(signed("/video/theirs.mp4", other_user)).status_code == 200


def test_a_deactivated_users_links_stop_working(anonymous_api, media_root, user):
    from avatar_site.lib.links import signed

    finished_video(media_root, user, "mine.mp4")
    link = signed("/video/mine.mp4", user)
    user.is_active = False
    user.save()

    assert anonymous_api.get(link).status_code == 404


def test_session_clients_get_the_plain_links_of_the_spec(api, media_root, user):
    task = finished_video(media_root, user, "mine.mp4")

    answer = api.get(f"/api/tasks/{task.pk}").json()

    assert answer["result"]["video_path"] == "/video/mine.mp4"


def test_a_link_to_a_file_named_in_chinese_plays_as_browsers_send_it(token_api, anonymous_api, media_root, user):
    from urllib.parse import quote

    task = finished_video(media_root, user, "问候.mp4")
    link = token_api.get(f"/api/tasks/{task.pk}").json()["result"]["video_path"]
    path, _, query = link.partition("?")

    response = anonymous_api.get(f"{quote(path)}?{query}")  # a browser percent-encodes the path

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith("问候".encode())
