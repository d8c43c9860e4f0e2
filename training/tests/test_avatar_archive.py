import io
import json
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


@pytest.mark.parametrize("manifest", [
    b"[1, 2]",
    b'"builtin"',
    b'{"engine": "builtin", "epochs": "abc"}',
    b'{"engine": "builtin", "epochs": -3}',
    b'{"engine": "builtin", "epochs": 1e999}',
    b'{"engine": "builtin", "params": [1]}',
    b'{"engine": "builtin", "note": "\\ud800"}',
])
def test_it_refuses_a_manifest_it_cannot_store(api, manifest):
    response = generate(api, zip_upload({"manifest.json": manifest, "still.png": b"x"}))

    assert response.status_code == 400, response.content
    assert "manifest.json" in response.json()["message"]
    assert not Avatar.objects.exists()


def test_it_refuses_a_damaged_archive_and_keeps_nothing(api, media_root):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", b'{"engine": "builtin"}')
        archive.writestr("frames.bin", b"A" * 1000)
    damaged = buffer.getvalue().replace(b"A" * 10, b"B" * 10, 1)  # the member's CRC no longer matches
    upload = io.BytesIO(damaged)
    upload.name = "avatar.zip"

    response = generate(api, upload)

    assert response.status_code == 422
    assert "damaged" in response.json()["message"]
    assert not Avatar.objects.exists()
    assert not list((media_root / "avatars").glob("*"))


def test_it_refuses_a_name_that_is_both_file_and_folder(api):
    upload = zip_upload({"manifest.json": b'{"engine": "builtin"}', "a": b"file", "a/b": b"inside"})

    response = generate(api, upload)

    assert response.status_code == 400
    assert "both a file and a folder" in response.json()["message"]
    assert not Avatar.objects.exists()


def test_a_nerf_archive_cannot_lend_another_users_training_data(api, other_user):
    victim = Avatar.create_with_unique_id(engine="SyncTalk", source_video="x.mp4", epochs=1, owner=other_user,
                                          status=Avatar.Status.READY)
    manifest = json.dumps({"engine": "SyncTalk", "workspace": "workspace", "data_id": victim.id,
                           "asr_model": "ave", "torso": False}).encode()

    response = generate(api, zip_upload({"manifest.json": manifest}), model_name="SyncTalk")

    assert response.status_code == 400
    assert "belongs to no avatar of yours" in response.json()["message"]
    assert Avatar.objects.count() == 1
