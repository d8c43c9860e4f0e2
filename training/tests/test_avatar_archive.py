import io
import zipfile

import pytest

from tests.flows import clone_voice, train_avatar
from training.archive import pack_avatar
from training.models import Avatar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


@pytest.fixture
def archive(api, media_root, tmp_path):
    """A trained avatar packed as a zip, and the original deleted: the upload is all there is."""
    clone_voice(api, media_root, "speaker_1")
    avatar = Avatar.objects.get(pk=train_avatar(api, media_root).json()["avatar_id"])
    target = tmp_path / "avatar.zip"
    pack_avatar(avatar, target)
    avatar.delete()
    return target


def generate(api, model_param, **fields):
    return api.post("/video_generation", {"model_name": "builtin", "model_param": model_param,
                                          "ref_audio_id": "speaker_1", "gpu_choice": "GPU0",
                                          "target_text": "hello", **fields})


def zip_upload(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    buffer.name = "avatar.zip"
    return buffer


def test_it_renders_with_an_uploaded_avatar_archive(api, archive):
    with open(archive, "rb") as handle:
        response = generate(api, handle)

    assert response.status_code == 200, response.json()
    imported = Avatar.objects.get()
    assert imported.status == Avatar.Status.READY
    assert (imported.folder / "still.png").is_file()
    assert api.get("/api/avatars").json()["avatars"][0]["id"] == imported.id


def test_it_refuses_an_archive_of_another_engine(api, archive):
    with open(archive, "rb") as handle:
        response = generate(api, handle, model_name="SyncTalk")

    assert response.status_code == 400
    assert "not SyncTalk" in response.json()["message"]
    assert not Avatar.objects.exists()


def test_it_refuses_entries_that_leave_the_folder(api, media_root):
    upload = zip_upload({"manifest.json": b'{"engine": "builtin"}', "../../escape.txt": b"x"})

    response = generate(api, upload)

    assert response.status_code == 400
    assert not (media_root.parent / "escape.txt").exists()


def test_it_stops_a_decompression_bomb(api, settings):
    settings.MAX_AVATAR_ARCHIVE_BYTES = 1_000_000
    upload = zip_upload({"manifest.json": b'{"engine": "builtin"}', "frames.bin": b"\0" * 5_000_000})

    response = generate(api, upload)

    assert response.status_code == 422
    assert not Avatar.objects.exists()


def test_it_refuses_an_upload_that_is_not_a_zip(api):
    upload = io.BytesIO(b"not a zip at all")
    upload.name = "avatar.zip"

    response = generate(api, upload)

    assert response.status_code == 415
