import pytest

from monitoring.models import HistoryRecord, Task
from tests.flows import train_avatar
from tests.media import test_video
from training.engines.base import EngineError
from training.models import Avatar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


def test_it_trains_an_avatar_and_answers_with_the_task_id(api, media_root):
    response = train_avatar(api, media_root)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "模型训练开始"
    assert body["task_id"].startswith("train_")
    assert body["speaker_id"].startswith("user_")
    task = Task.objects.get(pk=body["task_id"])
    assert task.status == Task.Status.SUCCEEDED
    assert task.progress == 100
    avatar = Avatar.objects.get(pk=body["avatar_id"])
    assert avatar.status == Avatar.Status.READY
    assert avatar.manifest_path.is_file()
    assert HistoryRecord.objects.get(task=task).status == "completed"


def test_an_avatar_is_named_after_its_video_unless_the_request_names_it(api, media_root, tmp_path):
    video = test_video(tmp_path / "我的视频.mp4", seconds=2)
    with open(video, "rb") as handle:
        uploaded = api.post("/model_training", {"model_choice": "builtin", "ref_video": handle, "gpu_choice": "GPU0",
                                                "epoch": "1"}, format="multipart")
    named = train_avatar(api, media_root, name="小明")

    listed = {avatar["id"]: avatar["name"] for avatar in api.get("/api/avatars").json()["avatars"]}

    assert listed == {uploaded.json()["avatar_id"]: "我的视频", named.json()["avatar_id"]: "小明"}


def test_it_gives_each_avatar_a_unique_id(api, media_root):
    first = train_avatar(api, media_root).json()["avatar_id"]
    second = train_avatar(api, media_root).json()["avatar_id"]

    assert first != second
    assert second == f"{first}_2"


def test_a_refused_row_is_not_retried_under_the_next_id(django_assert_max_num_queries):
    from django.db import IntegrityError

    Avatar.create_with_unique_id(engine="builtin", source_video="a.mp4", epochs=1)

    # A negative epoch count breaks a check constraint, not the id: one read of the taken ids,
    # one insert (in a savepoint) and one check that the id is still free, not 9 999 attempts.
    with django_assert_max_num_queries(6), pytest.raises(IntegrityError):
        Avatar.create_with_unique_id(engine="builtin", source_video="b.mp4", epochs=-1)
    assert Avatar.objects.count() == 1


def test_it_lists_trained_avatars(api, media_root):
    avatar_id = train_avatar(api, media_root).json()["avatar_id"]

    response = api.get("/api/avatars")

    assert [a["model_param"] for a in response.json()["avatars"]] == [avatar_id]


def test_it_accepts_custom_params_as_json_or_pairs(api, media_root):
    as_json = train_avatar(api, media_root, custom_params='{"lr": 0.01, "batch_size": 8}')
    as_pairs = train_avatar(api, media_root, custom_params="lr=0.001,batch_size=4")

    assert Avatar.objects.get(pk=as_json.json()["avatar_id"]).params == {"lr": 0.01, "batch_size": 8}
    assert Avatar.objects.get(pk=as_pairs.json()["avatar_id"]).params == {"lr": 0.001, "batch_size": 4}


@pytest.mark.parametrize(
    "custom_params, expected",
    [("lr=fast", "lr='fast'"), ("colour=blue", "unknown key"), ("{not json", "not valid JSON"), ("lr", "neither")],
)
def test_it_refuses_bad_custom_params(api, media_root, custom_params, expected):
    response = train_avatar(api, media_root, custom_params=custom_params)

    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert HistoryRecord.objects.get(type="model_training").status == "failed"


@pytest.mark.parametrize("epoch", ["0", "-3", "ten", "1.5"])
def test_it_refuses_an_epoch_that_is_not_a_positive_integer(api, media_root, epoch):
    response = train_avatar(api, media_root, epoch=epoch)

    assert response.status_code == 400
    assert "epoch" in response.json()["message"]


def test_it_refuses_an_unknown_gpu(api, media_root):
    response = train_avatar(api, media_root, gpu_choice="GPU7")

    assert response.status_code == 400
    assert "GPU7" in response.json()["message"]


def test_it_refuses_an_unknown_model(api, media_root):
    response = train_avatar(api, media_root, model_choice="Wav2Lip")

    assert response.status_code == 400


def test_it_accepts_windows_separators_inside_the_roots(api, input_root):
    (input_root / "clips").mkdir()
    test_video(input_root / "clips" / "me.mp4", seconds=2)

    response = api.post(
        "/model_training",
        {"model_choice": "builtin", "ref_video": "clips\\me.mp4", "gpu_choice": "GPU0", "epoch": "1"},
    )

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("ref_video", ["../../etc/passwd", "/etc/passwd", "clips/\x00.mp4", "a" * 2000])
def test_it_refuses_paths_that_escape_the_roots(api, media_root, ref_video):
    response = api.post(
        "/model_training", {"model_choice": "builtin", "ref_video": ref_video, "gpu_choice": "GPU0", "epoch": "1"}
    )

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_it_refuses_a_symlink_pointing_out_of_the_roots(api, input_root, tmp_path):
    outside = test_video(tmp_path / "outside.mp4", seconds=1)
    (input_root / "link.mp4").symlink_to(outside)

    response = api.post(
        "/model_training", {"model_choice": "builtin", "ref_video": "link.mp4", "gpu_choice": "GPU0", "epoch": "1"}
    )

    assert response.status_code == 400


def test_it_refuses_a_video_upload_that_is_not_media(api, media_root, tmp_path):
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"\x00\x01 definitely not a video" * 100)

    with open(fake, "rb") as handle:
        response = api.post(
            "/model_training", {"model_choice": "builtin", "ref_video": handle, "gpu_choice": "GPU0", "epoch": "1"}
        )

    assert response.status_code == 415
    assert not any(p.is_file() for p in (media_root / "uploads").rglob("*"))


def test_it_refuses_an_upload_over_the_size_limit(api, media_root, settings, tmp_path):
    settings.MAX_UPLOAD_BYTES = 50_000
    video = test_video(tmp_path / "big.mp4", seconds=3, size="640x480")

    with open(video, "rb") as handle:
        response = api.post(
            "/model_training", {"model_choice": "builtin", "ref_video": handle, "gpu_choice": "GPU0", "epoch": "1"}
        )

    assert response.status_code == 413
    assert response.json()["status"] == "error"


def test_a_failed_training_leaves_no_half_written_avatar(api, input_root, monkeypatch):
    from tests.doubles import StillTalkingHead

    def fail_halfway(self, job, progress):
        (job.avatar_dir / "half_written.bin").write_bytes(b"x")
        raise EngineError("The engine ran out of memory.")

    monkeypatch.setattr(StillTalkingHead, "train", fail_halfway)
    video = test_video(input_root / "reference.mp4", seconds=2)

    response = api.post(
        "/model_training",
        {"model_choice": "builtin", "ref_video": str(video), "gpu_choice": "GPU0", "epoch": "1"},
    )

    task = Task.objects.get(pk=response.json()["task_id"])
    assert task.status == Task.Status.FAILED
    assert task.message == "The engine ran out of memory."
    avatar = Avatar.objects.get(pk=response.json()["avatar_id"])
    assert avatar.status == Avatar.Status.FAILED
    assert not avatar.folder.exists()
    history = HistoryRecord.objects.get(task=task)
    assert history.status == "failed"
    assert history.result["message"] == "The engine ran out of memory."


def test_a_score_an_engine_could_not_compute_is_stored_as_null(api, input_root, monkeypatch):
    from tests.doubles import StillTalkingHead

    trained = StillTalkingHead.train
    monkeypatch.setattr(StillTalkingHead, "train", lambda self, job, progress: {
        **trained(self, job, progress), "scores": {"opening_r": float("nan"), "lmd": float("inf"), "ok": 0.5}})
    video = test_video(input_root / "reference.mp4", seconds=2)

    response = api.post(
        "/model_training",
        {"model_choice": "builtin", "ref_video": str(video), "gpu_choice": "GPU0", "epoch": "1"},
    )

    avatar = Avatar.objects.get(pk=response.json()["avatar_id"])
    assert avatar.status == Avatar.Status.READY
    assert avatar.metrics["scores"] == {"opening_r": None, "lmd": None, "ok": 0.5}


def test_a_video_without_audio_is_refused_before_anything_is_queued(api, media_root):
    silent_video = test_video(media_root / "mute.mp4", seconds=2, audio=False)

    with open(silent_video, "rb") as handle:
        response = api.post(
            "/model_training", {"model_choice": "builtin", "ref_video": handle, "gpu_choice": "GPU0", "epoch": "1"})

    assert response.status_code == 422
    assert response.json()["message"] == ("ref_video: The reference video has no audio track; the avatar learns "
                                          "its mouth from the speech.")
    assert not Task.objects.exists() and not Avatar.objects.exists()
    assert not [file for file in (media_root / "uploads").rglob("*") if file.is_file()]
    assert HistoryRecord.objects.get(type="model_training").status == "failed"


def test_retrying_a_failed_training_again_leaves_the_avatar_an_earlier_retry_trained(api, media_root, monkeypatch):
    from monitoring import jobs
    from tests import doubles

    working_train = doubles.StillTalkingHead.train
    outcomes = iter(["fail", "train", "fail"])

    def flaky(self, job, progress):
        if next(outcomes) == "fail":
            raise doubles.EngineError("transient GPU error")
        return working_train(self, job, progress)

    monkeypatch.setattr(doubles.StillTalkingHead, "train", flaky)
    original = Task.objects.get(pk=train_avatar(api, media_root).json()["task_id"])
    avatar = Avatar.objects.get(pk=original.parameters["avatar_id"])
    assert avatar.status == Avatar.Status.FAILED

    first_retry = jobs.retry(original)
    second_retry = jobs.retry(original)

    avatar.refresh_from_db()
    assert first_retry.status == Task.Status.SUCCEEDED
    assert second_retry.status == Task.Status.FAILED
    assert "already trained" in second_retry.message
    assert avatar.status == Avatar.Status.READY and avatar.manifest_path.is_file()


def test_a_training_refused_before_its_task_exists_leaves_no_upload(api, media_root, tmp_path, monkeypatch):
    from avatar_site.lib.errors import ServiceUnavailable

    def all_taken(**fields):
        raise ServiceUnavailable("All 10000 ids user_20261130… are taken; try again later.")

    monkeypatch.setattr(Avatar, "create_with_unique_id", all_taken)

    with open(test_video(tmp_path / "reference.mp4"), "rb") as handle:
        response = api.post("/model_training", {"ref_video": handle, "model_choice": "builtin", "gpu_choice": "GPU0",
                                                "epoch": 1})

    assert response.status_code == 503
    assert not list((media_root / "uploads" / "videos").iterdir())


def test_deleting_an_avatar_deletes_the_video_uploaded_for_it_not_a_shared_input(api, media_root, tmp_path,
                                                                                input_root):
    with open(test_video(tmp_path / "reference.mp4"), "rb") as handle:
        uploaded = api.post("/model_training", {"ref_video": handle, "model_choice": "builtin", "gpu_choice": "GPU0",
                                                "epoch": 1}).json()["avatar_id"]
    from_path = train_avatar(api, media_root).json()["avatar_id"]
    assert len(list((media_root / "uploads" / "videos").iterdir())) == 1

    Avatar.objects.get(pk=uploaded).delete()
    Avatar.objects.get(pk=from_path).delete()

    assert not list((media_root / "uploads" / "videos").iterdir())
    assert (input_root / "reference.mp4").is_file()  # the operator's shared input stays


def test_a_user_deletes_their_own_avatar_with_its_files(api, media_root, other_user):
    from rest_framework.test import APIClient

    avatar = Avatar.objects.get(pk=train_avatar(api, media_root).json()["avatar_id"])
    others = APIClient()
    others.force_authenticate(other_user)

    assert others.delete(f"/api/avatars/{avatar.pk}").status_code == 404
    response = api.delete(f"/api/avatars/{avatar.pk}")

    assert response.json() == {"status": "success", "message": "模型已删除"}
    assert not Avatar.objects.exists() and not avatar.folder.exists()


def test_an_avatar_trained_from_a_path_in_the_uploads_folder_leaves_that_file_when_deleted(admin_user, media_root):
    from rest_framework.test import APIClient

    (media_root / "uploads" / "videos").mkdir(parents=True)
    named = test_video(media_root / "uploads" / "videos" / "someone_elses.mp4")  # an earlier request's upload
    staff = APIClient()
    staff.force_authenticate(admin_user)  # staff may name any media file by path
    avatar_id = staff.post("/model_training", {"ref_video": str(named), "model_choice": "builtin",
                                             "gpu_choice": "GPU0", "epoch": 1}).json()["avatar_id"]

    Avatar.objects.get(pk=avatar_id).delete()

    assert named.is_file()


def test_a_failed_training_whose_files_cannot_be_removed_leaves_its_avatar_failed(api, media_root, monkeypatch):
    from tests.doubles import StillTalkingHead, unremovable_files
    from training.engines.base import EngineError

    def fail(self, job, progress):
        (job.avatar_dir / "half-written.bin").write_bytes(b"half")
        raise EngineError("The engine ran out of GPU memory.")

    monkeypatch.setattr(StillTalkingHead, "train", fail)
    unremovable_files(monkeypatch)

    train_avatar(api, media_root)

    avatar = Avatar.objects.get()
    assert avatar.status == Avatar.Status.FAILED
    assert Task.objects.get().message == "The engine ran out of GPU memory."  # not the clean-up's error


def test_an_avatar_id_whose_leftover_folder_cannot_be_emptied_fails_its_training_not_stalls_it(
        api, media_root, monkeypatch):
    from tests.doubles import unremovable_files

    leftover = Avatar(id="anything").folder.parent
    leftover.mkdir(parents=True, exist_ok=True)
    unremovable_files(monkeypatch)
    monkeypatch.setattr(Avatar, "folder", property(lambda avatar: leftover))  # every avatar's folder is taken

    train_avatar(api, media_root)

    assert Avatar.objects.get().status == Avatar.Status.FAILED
    assert Task.objects.get().message.startswith("System error: Permission denied")
