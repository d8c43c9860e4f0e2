"""Path escapes for every client path field and file endpoint, and media that is refused by probing."""

from __future__ import annotations

import io

import pytest

from monitoring.models import Task
from tests.flows import clone_voice, train_avatar
from tests.media import test_video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]

SECRET = "top-secret-outside-the-roots"

ESCAPES = [
    "..",
    "../secret.txt",
    "../../../../etc/passwd",
    "/etc/passwd",
    "%2e%2e/secret.txt",
    "..\\secret.txt",
    "\\..\\..\\etc\\passwd",
    "C:\\Windows\\win.ini",
    "ok\x00.mp4",
    "outlink",
    "a" * 300,
    "d/" * 600,
]


@pytest.fixture
def outside(media_root, tmp_path):
    """A secret next to the media root, and a symlink inside the root pointing at it."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    (media_root / "outlink").symlink_to(secret)
    (media_root.parent / "inputs" / "outlink").symlink_to(secret)
    (media_root / "videos").mkdir()
    (media_root / "videos" / "outlink").symlink_to(secret)
    return secret


@pytest.fixture
def avatar_id(api, media_root):
    clone_voice(api, media_root, "speaker_1")
    return train_avatar(api, media_root).json()["avatar_id"]


def _refused(response) -> None:
    assert response.status_code in (400, 404), response.content
    assert response.json()["status"] == "error"
    assert SECRET not in response.content.decode(errors="replace")


@pytest.mark.parametrize("attempt", ESCAPES)
def test_model_param_never_escapes(api, outside, avatar_id, attempt):
    tasks_before = Task.objects.count()

    response = api.post("/video_generation", {"model_name": "builtin", "model_param": attempt,
                                              "ref_audio_id": "speaker_1", "gpu_choice": "GPU0", "target_text": "hi"})

    _refused(response)
    assert Task.objects.count() == tasks_before


@pytest.mark.parametrize("attempt", ESCAPES)
def test_ref_video_never_escapes(api, outside, attempt):
    response = api.post("/model_training",
                        {"model_choice": "builtin", "ref_video": attempt, "gpu_choice": "GPU0", "epoch": "1"})

    _refused(response)
    assert not Task.objects.exists()


@pytest.mark.parametrize("attempt", ESCAPES)
def test_original_audio_path_never_escapes(api, outside, attempt):
    response = api.post("/audio_clone", {"original_audio_path": attempt, "audio_id": "intruder"})

    _refused(response)
    assert not Task.objects.exists()


@pytest.mark.parametrize("prefix", ["/video/", "/media/"])
@pytest.mark.parametrize("attempt", ESCAPES)
def test_file_endpoints_never_read_outside(api, outside, prefix, attempt):
    response = api.get(prefix + attempt)

    assert response.status_code in (400, 404)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET.encode() not in body


def test_media_longer_than_the_limit_is_refused_by_probing(api, input_root, settings):
    settings.MAX_MEDIA_SECONDS = 1
    video = test_video(input_root / "long.mp4", seconds=3)

    response = api.post("/model_training",
                        {"model_choice": "builtin", "ref_video": str(video), "gpu_choice": "GPU0", "epoch": "1"})

    assert response.status_code == 422
    assert "longer than the limit" in response.json()["message"]


def test_video_with_absurd_dimensions_is_refused_by_probing(api, input_root, settings):
    settings.MAX_MEDIA_PIXELS = 100 * 100
    video = test_video(input_root / "big.mp4", seconds=1, size="320x240")

    response = api.post("/model_training",
                        {"model_choice": "builtin", "ref_video": str(video), "gpu_choice": "GPU0", "epoch": "1"})

    assert response.status_code == 422
    assert "larger than allowed" in response.json()["message"]


@pytest.mark.parametrize("field", ["ref_video", "original_audio_path"])
def test_a_playlist_naming_other_files_is_refused_by_probing(api, tmp_path, media_root, field):
    """An HLS playlist is readable media to ffmpeg, which would decode the files it names (any
    path, another user's avatar footage) as if the client had sent them."""
    elsewhere = test_video(tmp_path / "elsewhere.mp4", seconds=2)
    playlist = io.BytesIO(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{elsewhere}\n#EXT-X-ENDLIST\n".encode())
    playlist.name = "clip.m3u8"
    request = {"ref_video": ("/model_training", {"model_choice": "builtin", "gpu_choice": "GPU0", "epoch": "1"}),
               "original_audio_path": ("/audio_clone", {"audio_id": "from_playlist"})}
    path, fields = request[field]

    response = api.post(path, {**fields, field: playlist}, format="multipart")

    assert response.status_code == 415, response.json()
    assert "hls" in response.json()["message"]
    assert not [file for file in (media_root / "uploads").rglob("*") if file.is_file()]
    assert not Task.objects.exists()


def test_another_users_files_cannot_be_used_as_inputs(api, media_root, other_user):
    from rest_framework.test import APIClient

    clone_voice(api, media_root, "alice_voice")
    avatar_id = train_avatar(api, media_root).json()["avatar_id"]
    bob = APIClient()
    bob.force_authenticate(other_user)

    stolen_voice = bob.post("/audio_clone", {"original_audio_path": "voices/speakers/alice_voice/reference.wav",
                                             "audio_id": "bobs_copy"})
    stolen_video = bob.post("/model_training", {"model_choice": "builtin", "gpu_choice": "GPU0", "epoch": "1",
                                                "ref_video": f"{media_root}/avatars/{avatar_id}/still.png"})
    own_voice = api.post("/audio_clone", {"original_audio_path": str(media_root / "voices/speakers/alice_voice/reference.wav"),
                                          "audio_id": "alice_again"})

    assert stolen_voice.status_code == 404
    assert stolen_voice.json()["message"] == "original_audio_path: no such file."
    assert stolen_video.status_code == 404
    assert own_voice.status_code == 200, own_voice.json()


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/api/tasks/a%00b"),
    ("post", "/api/tasks/a%00b/cancel"),
    ("delete", "/api/cloned-audios/a%00b"),
    ("delete", "/api/avatars/a%00b"),
])
def test_an_id_with_nul_is_not_found_before_it_reaches_the_database(api, method, url):
    """PostgreSQL refuses NUL in text: such an id in a query was a 500 there (SQLite just finds nothing)."""
    from django.urls import Resolver404, resolve

    response = getattr(api, method)(url)

    assert response.status_code == 404
    assert response.json()["status"] == "error"
    with pytest.raises(Resolver404):
        resolve(url.replace("%00", "\x00"))
