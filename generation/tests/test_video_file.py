import pytest
from rest_framework.test import APIClient

from monitoring.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(media_root, user):
    folder = media_root / "videos"
    folder.mkdir()
    path = folder / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 40)
    task = Task.create_with_unique_id("video_generation", handler="x", queue="GPU0", owner=user)
    task.finish(Task.Status.SUCCEEDED, result={"video_path": "/video/clip.mp4"})
    return path


def test_it_serves_a_whole_video(api, video):
    response = api.get("/video/clip.mp4")

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert b"".join(response.streaming_content) == video.read_bytes()


def test_it_serves_a_byte_range(api, video):
    response = api.get("/video/clip.mp4", HTTP_RANGE="bytes=10-19")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-19/{video.stat().st_size}"
    assert b"".join(response.streaming_content) == video.read_bytes()[10:20]


def test_it_serves_a_suffix_range(api, video):
    response = api.get("/video/clip.mp4", HTTP_RANGE="bytes=-5")

    assert response.status_code == 206
    assert b"".join(response.streaming_content) == video.read_bytes()[-5:]


def test_it_refuses_an_unsatisfiable_range(api, video):
    response = api.get("/video/clip.mp4", HTTP_RANGE="bytes=999999-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{video.stat().st_size}"
    assert response.json()["status"] == "error"


@pytest.mark.parametrize("headers", [
    {"HTTP_RANGE": "bytes=5-3"},  # backwards: ignored, as RFC 9110 says
    {"HTTP_RANGE": "bytes=0-1,5-6"},  # several ranges: the whole file is allowed
    {"HTTP_RANGE": "bytes=0-9", "HTTP_IF_RANGE": '"some-etag"'},  # nothing to validate it against
])
def test_a_range_it_does_not_serve_as_asked_gets_the_whole_file(api, video, headers):
    response = api.get("/video/clip.mp4", **headers)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == video.read_bytes()


def test_a_file_deleted_before_it_is_opened_is_not_found(api, video, monkeypatch):
    from avatar_site.lib import serving

    real_open = open

    def deleted_meanwhile(path, *args, **kwargs):
        video.unlink()
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(serving, "open", deleted_meanwhile, raising=False)

    response = api.get("/video/clip.mp4", HTTP_RANGE="bytes=0-9")

    assert response.status_code == 404


def test_a_range_keeps_its_bytes_when_the_file_is_deleted_while_streaming(api, video):
    response = api.get("/video/clip.mp4", HTTP_RANGE="bytes=0-9")
    expected = video.read_bytes()[:10]
    video.unlink()

    assert response.status_code == 206
    assert b"".join(response.streaming_content) == expected


@pytest.mark.parametrize("name", ["../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "missing.mp4"])
def test_it_never_reads_outside_the_videos_folder(api, video, media_root, name):
    (media_root / "secret.txt").write_text("secret")

    response = api.get(f"/video/{name}")

    assert response.status_code in (400, 404)
    assert b"secret" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_it_hides_a_video_from_other_users(video, other_user):
    client = APIClient()
    client.force_authenticate(other_user)

    response = client.get("/video/clip.mp4")

    assert response.status_code == 404


def test_it_shows_staff_every_video(video, other_user):
    other_user.is_staff = True
    other_user.save()
    client = APIClient()
    client.force_authenticate(other_user)

    response = client.get("/video/clip.mp4")

    assert response.status_code == 200


def test_it_hides_partial_outputs(api, video, media_root):
    (media_root / "videos" / ".clip.partial.mp4").write_bytes(b"half")

    response = api.get("/video/.clip.partial.mp4")

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["page.html", "drawing.svg", "notes.txt", "no_suffix"])
@pytest.mark.parametrize("range_header", [{}, {"HTTP_RANGE": "bytes=0-3"}])
def test_files_other_than_audio_and_video_are_downloads_that_run_nothing(api, user, media_root, name, range_header):
    """A page or an SVG shown inline would run its scripts on the site's origin (staff read all media)."""
    user.is_staff = True
    user.save()
    folder = media_root / "avatars" / "user_1"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"<script>alert(document.cookie)</script>")

    response = api.get(f"/media/avatars/user_1/{name}", **range_header)

    assert response.status_code in (200, 206)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_video_plays_inline(api, video):
    response = api.get("/video/clip.mp4")

    assert response["Content-Type"] == "video/mp4"
    assert "attachment" not in response.get("Content-Disposition", "")
