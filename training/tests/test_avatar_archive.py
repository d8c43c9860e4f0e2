import io
import json
import struct
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.utils.module_loading import import_string

from tests.flows import clone_voice, train_avatar
from tests.media import silent_wav, test_video
from training.models import Avatar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


@pytest.fixture(autouse=True)
def speaker(double_engines, api, media_root):
    """The voice every render below speaks with: requests naming it fail only for their archive."""
    clone_voice(api, media_root, "speaker_1")


@pytest.fixture
def archive(api, media_root, tmp_path):
    """A trained avatar packed as a zip, and the original deleted: the upload is all there is."""
    avatar = Avatar.objects.get(pk=train_avatar(api, media_root).json()["avatar_id"])
    target = tmp_path / "avatar.zip"
    call_command("export_avatar", avatar.pk, target)
    avatar.delete()
    return target


def test_it_exports_only_the_manifest_and_the_engines_files(archive):
    with zipfile.ZipFile(archive) as packed:
        names = set(packed.namelist())

    assert "manifest.json" in names and "still.png" in names
    assert not any(name.endswith(".part") or name.startswith("..") for name in names)


def test_it_exports_only_ready_avatars(media_root, tmp_path, user):
    training = Avatar.objects.create(id="user_20260101", owner=user, engine="builtin", epochs=3,
                                       status=Avatar.Status.TRAINING)

    with pytest.raises(CommandError, match="No ready avatar"):
        call_command("export_avatar", training.pk, tmp_path / "avatar.zip")

    assert not (tmp_path / "avatar.zip").exists()


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
    assert imported.name == "avatar"  # the archive's file name


def test_it_refuses_an_archive_of_another_engine(api):
    upload = zip_upload({"manifest.json": b'{"engine": "SyncTalk"}', "still.png": b"x"})

    response = generate(api, upload)

    assert response.status_code == 400
    assert "'SyncTalk' avatar, not builtin" in response.json()["message"]
    assert not Avatar.objects.exists()


@pytest.mark.parametrize("engine", ["training.engines.synctalk.SyncTalk", "training.engines.ernerf.ERNeRF"])
def test_nerf_avatars_cannot_be_uploaded_as_their_checkpoints_are_pickles(api, settings, monkeypatch, engine):
    """Upstream loads ngp_ep*.pth with torch.load's full unpickling: an uploaded one would run its
    author's code on the GPU host."""
    settings.TALKING_HEAD_ENGINES = {**settings.TALKING_HEAD_ENGINES, "SyncTalk": engine}
    monkeypatch.setattr(import_string(engine), "check_available", lambda self: None)
    manifest = json.dumps({"engine": "SyncTalk", "workspace": "workspace", "data_id": "user_1",
                           "asr_model": "ave", "torso": False}).encode()
    upload = zip_upload({"manifest.json": manifest, "workspace/checkpoints/ngp_ep0001.pth": b"pickle"})

    response = generate(api, upload, model_name="SyncTalk")

    assert response.status_code == 400
    assert "SyncTalk avatars cannot be uploaded" in response.json()["message"]
    assert not Avatar.objects.exists()


def test_only_the_manifest_and_the_engines_files_are_unpacked(api, archive, media_root, tmp_path):
    """Anything else (a page, a script) would be served from the avatar's folder."""
    extended = tmp_path / "extended.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(extended, "w") as target:
        for member in source.infolist():
            target.writestr(member, source.read(member))
        target.writestr("page.html", b"<script>alert(1)</script>")
        target.writestr("still.png/inside", b"x")

    with open(extended, "rb") as handle:
        response = generate(api, handle)

    assert response.status_code == 200, response.json()
    imported = Avatar.objects.get()
    assert sorted(path.name for path in imported.folder.iterdir()) == ["manifest.json", "still.png"]


def test_media_in_an_archive_must_be_an_ordinary_container(api, monkeypatch, media_root, tmp_path):
    """A playlist named like a video would make the renderer's ffmpeg read the files it names."""
    from tests.doubles import StillTalkingHead

    monkeypatch.setattr(StillTalkingHead, "archive_files", ("still.png", "frames.mp4"))
    elsewhere = test_video(tmp_path / "someone_elses.mp4", seconds=2)
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{elsewhere}\n#EXT-X-ENDLIST\n".encode()
    upload = zip_upload({"manifest.json": b'{"engine": "builtin"}', "still.png": b"x", "frames.mp4": playlist})

    response = generate(api, upload)

    assert response.status_code == 415
    assert "frames.mp4" in response.json()["message"] and "hls" in response.json()["message"]
    assert not Avatar.objects.exists()
    assert not list((media_root / "avatars").glob("*"))


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


def test_it_refuses_an_oversized_manifest_without_reading_it(api, monkeypatch):
    from training import archive

    monkeypatch.setattr(archive, "MAX_MANIFEST_BYTES", 1000)
    upload = zip_upload({"manifest.json": b'{"engine": "builtin"' + b" " * 2000 + b"}"})
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name, pwd=None: read.append(name))

    response = generate(api, upload)

    assert response.status_code == 400
    assert response.json()["message"] == "model_param: manifest.json is larger than 1000\xa0bytes."
    assert read == []
    assert not Avatar.objects.exists()


def test_it_refuses_params_training_would_not_have_accepted(api, archive, tmp_path):
    rewritten = tmp_path / "planted.zip"
    with zipfile.ZipFile(archive) as original, zipfile.ZipFile(rewritten, "w") as planted:
        for member in original.infolist():
            data = original.read(member)
            if member.filename.endswith("manifest.json"):
                data = json.dumps({**json.loads(data), "params": {"video_path": "/media/uploads/x.wav"}}).encode()
            planted.writestr(member, data)

    with open(rewritten, "rb") as handle:
        response = generate(api, handle)

    assert response.status_code == 400
    assert response.json()["message"].startswith("model_param: manifest.json: params: unknown key(s) video_path")
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
        archive.writestr("still.png", b"A" * 1000)
    damaged = buffer.getvalue().replace(b"A" * 10, b"B" * 10, 1)  # the member's CRC no longer matches
    upload = io.BytesIO(damaged)
    upload.name = "avatar.zip"

    response = generate(api, upload)

    assert response.status_code == 422
    assert "damaged" in response.json()["message"]
    assert not Avatar.objects.exists()
    assert not list((media_root / "avatars").glob("*"))


def test_an_archive_is_not_imported_for_a_request_refused_for_another_reason(api, archive):
    with open(archive, "rb") as handle:
        response = generate(api, handle, ref_audio_id="nobody")

    assert response.status_code == 404
    assert not Avatar.objects.exists()


def test_the_imported_avatar_goes_when_the_chat_recording_is_refused(api, archive, media_root):
    silent = media_root / "silent.wav"
    silent_wav(silent, seconds=2.0)
    with open(archive, "rb") as handle, open(silent, "rb") as audio:
        response = api.post("/chat_system", {"audio": audio, "model_name": "builtin", "model_param": handle,
                                             "ref_audio_id": "speaker_1", "api_choice": "glm-4-plus"})

    assert response.status_code == 422, response.json()
    assert not Avatar.objects.exists()
    assert not list((media_root / "avatars").glob("*"))


def test_it_refuses_an_archive_without_what_rendering_needs(api, media_root):
    response = generate(api, zip_upload({"manifest.json": b'{"engine": "builtin"}'}))

    assert response.status_code == 422
    assert "still.png" in response.json()["message"]
    assert not Avatar.objects.exists()
    assert not list((media_root / "avatars").glob("*"))


def test_it_refuses_an_archive_whose_directory_is_damaged(api):
    # Only an end-of-central-directory record, pointing at garbage: is_zipfile() accepts it.
    upload = io.BytesIO(b"X" * 46 + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, 46, 0, 0))
    upload.name = "avatar.zip"

    response = generate(api, upload)

    assert response.status_code == 422
    assert "damaged" in response.json()["message"]


def test_the_same_archive_sent_again_renders_with_the_avatar_imported_first(api, archive, media_root, other_user):
    from rest_framework.test import APIClient

    for _ in range(2):
        with open(archive, "rb") as handle:
            assert generate(api, handle).status_code == 200
    imported = Avatar.objects.get()
    silent = media_root / "silent.wav"
    silent_wav(silent, seconds=2.0)
    with open(archive, "rb") as handle, open(silent, "rb") as audio:  # refused after the import
        refused = api.post("/chat_system", {"audio": audio, "model_name": "builtin", "model_param": handle,
                                            "ref_audio_id": "speaker_1", "api_choice": "glm-4-plus"})
    assert refused.status_code == 422
    assert Avatar.objects.get() == imported  # the earlier import is not the refused request's to delete
    assert imported.manifest_path.is_file()

    others = APIClient()
    others.force_authenticate(other_user)
    clone_voice(others, media_root, "speaker_2")
    with open(archive, "rb") as handle:
        assert generate(others, handle, ref_audio_id="speaker_2").status_code == 200
    assert Avatar.objects.count() == 2  # another user's upload is theirs, not a way to use this one
