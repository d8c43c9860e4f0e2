import time

import pytest
from django.contrib.admin.utils import quote
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from monitoring import jobs
from monitoring.models import HistoryRecord, HistoryType, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    return client


@pytest.fixture
def finished_task(media_root):
    output = media_root / "videos" / "out.mp4"
    output.parent.mkdir()
    output.write_bytes(b"video")
    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="tests.jobs.count_job", queue="GPU0",
                                      parameters={"steps": 1})
    HistoryRecord.objects.create(type=task.kind, status="queued", task=task)
    task.finish(Task.Status.FAILED, "boom", {"files": [str(output)]})
    return task, output


@pytest.mark.parametrize("model", ["task", "historyrecord"])
def test_the_admin_lists_with_filters_and_search(staff_client, finished_task, model):
    response = staff_client.get(f"/admin/monitoring/{model}/", {"q": "gen", "status": "failed"})

    assert response.status_code == 200
    assert finished_task[0].pk.encode() in response.content or b"video_generation" in response.content


def delete_selected(client, model: str, *pks):
    return client.post(f"/admin/monitoring/{model}/",
                       {"action": "delete_selected", "_selected_action": list(pks), "post": "yes"})


def test_deleting_a_task_removes_its_outputs(staff_client, finished_task):
    task, output = finished_task

    delete_selected(staff_client, "task", task.pk)

    assert not Task.objects.filter(pk=task.pk).exists()
    assert not output.exists()
    assert HistoryRecord.objects.get().result == {"message": "boom", "output_deleted": True}  # no link to the video


def test_a_deleted_renders_history_keeps_what_it_did_without_the_link(staff_client, media_root):
    output = media_root / "videos" / "gen.mp4"
    output.parent.mkdir()
    output.write_bytes(b"video")
    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="tests.jobs.count_job", queue="GPU0")
    HistoryRecord.objects.create(type=task.kind, status="queued", task=task)
    task.finish(Task.Status.SUCCEEDED, "Done.", {"video_path": "/video/gen.mp4", "avatar_id": "user_1",
                                                 "files": [str(output)]})

    delete_selected(staff_client, "task", task.pk)

    assert HistoryRecord.objects.get().result == {"avatar_id": "user_1", "output_deleted": True}


def test_deleting_a_queued_clone_releases_its_audio_id_and_history_row(staff_client, user, media_root, monkeypatch):
    from tests.flows import clone_voice
    from voices.models import Speaker

    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    api = APIClient()
    api.force_authenticate(user)
    task_id = clone_voice(api, media_root, "speaker_1").json()["task_id"]

    delete_selected(staff_client, "task", task_id)

    assert not Task.objects.filter(pk=task_id).exists()
    assert not Speaker.objects.filter(pk="speaker_1").exists()
    assert HistoryRecord.objects.get(type="audio_clone").status == HistoryRecord.Status.CANCELLED


def test_a_running_task_and_its_history_row_are_not_deleted(staff_client, finished_task):
    task, output = finished_task
    Task.objects.filter(pk=task.pk).update(status=Task.Status.RUNNING)
    record = HistoryRecord.objects.get(task=task)

    pages = [delete_selected(staff_client, "task", task.pk), delete_selected(staff_client, "historyrecord", record.pk)]
    one_by_one = staff_client.post(reverse("admin:monitoring_task_delete", args=[quote(task.pk)]), {"post": "yes"})

    for page in pages:  # what to do, not Django's "your account doesn't have permission"
        assert page.status_code == 200
        assert "are in use" in page.content.decode() and "permission" not in page.content.decode()
    assert task.pk in pages[0].content.decode()
    assert one_by_one.status_code == 200 and "is in use" in one_by_one.content.decode()
    assert Task.objects.filter(pk=task.pk).exists()
    assert HistoryRecord.objects.filter(pk=record.pk).exists()
    assert output.exists()


def test_deleting_history_rows_takes_their_finished_tasks_along(staff_client, finished_task):
    task, output = finished_task
    taskless = HistoryRecord.objects.create(type="video_generation", status="failed")

    delete_selected(staff_client, "historyrecord", HistoryRecord.objects.get(task=task).pk, taskless.pk)

    assert not HistoryRecord.objects.exists()
    assert not Task.objects.exists()
    assert not output.exists()


def test_the_confirmation_names_the_tasks_and_files_that_go_with_history_rows(staff_client, finished_task):
    task, output = finished_task
    record = HistoryRecord.objects.get(task=task)

    page = staff_client.post("/admin/monitoring/historyrecord/", {"action": "delete_selected",
                                                                   "_selected_action": [record.pk]})

    assert f"Task {task.pk} and its output files: out.mp4" in page.content.decode()
    assert output.exists()


def test_retry_queues_a_failed_task_again(staff_client, finished_task, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    task, _ = finished_task

    staff_client.post("/admin/monitoring/task/", {"action": "retry_tasks", "_selected_action": [task.pk]})

    retried = Task.objects.exclude(pk=task.pk).get()
    assert retried.status == Task.Status.QUEUED
    assert retried.parameters == {**task.parameters, "retry_of": task.pk, "requested_at": task.created_at.isoformat()}


def test_retry_says_which_selected_tasks_had_not_failed(staff_client, finished_task, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    task, _ = finished_task
    Task.objects.filter(pk=task.pk).update(status=Task.Status.SUCCEEDED)

    response = staff_client.post("/admin/monitoring/task/", {"action": "retry_tasks", "_selected_action": [task.pk]},
                                 follow=True)

    assert Task.objects.count() == 1
    page = response.content.decode()
    assert f"Not retried (only failed or cancelled tasks are): {task.pk}." in page
    assert "Queued again" not in page


def test_staff_mark_failed_the_running_tasks_of_a_host_that_is_gone(staff_client, monkeypatch):
    import os

    from monitoring.recovery import worker_host

    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    lost, here = (jobs.submit(HistoryType.VIDEO_GENERATION, "tests.jobs.count_job", {}, queue="GPU0") for _ in "ab")
    lost.claim(pid=4242, host="gpu-host-that-was-replaced")
    here.claim(pid=os.getpid(), host=worker_host())  # a worker alive on this host

    response = staff_client.post("/admin/monitoring/task/", {"action": "fail_lost_tasks",
                                                             "_selected_action": [lost.pk, here.pk]}, follow=True)

    lost.refresh_from_db()
    here.refresh_from_db()
    assert lost.status == Task.Status.FAILED
    assert lost.message.startswith("Marked failed by staff: the host running this job was lost")
    assert HistoryRecord.objects.get(task=lost).status == HistoryRecord.Status.FAILED
    assert here.status == Task.Status.RUNNING
    page = response.content.decode()
    assert f"Marked failed: {lost.pk}." in page
    assert f"still runs on this host): {here.pk}." in page


def test_prune_deletes_old_history_tasks_and_files(finished_task):
    task, output = finished_task
    Task.objects.update(created_at="2000-01-01T00:00:00Z")
    HistoryRecord.objects.update(created_at="2000-01-01T00:00:00Z")

    call_command("prune", "--days", "30")

    assert not Task.objects.exists()
    assert not HistoryRecord.objects.exists()
    assert not output.exists()


def test_prune_keeps_what_a_live_task_still_uses(media_root):
    import os


    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="tests.jobs.count_job", queue="GPU0")
    HistoryRecord.objects.create(type=task.kind, status="running", task=task)
    Task.objects.update(status=Task.Status.RUNNING, created_at="2000-01-01T00:00:00Z")
    HistoryRecord.objects.update(created_at="2000-01-01T00:00:00Z")
    scratch = media_root / "tmp" / f"{task.pk}_0123456789ab_x1" / "speech.wav"
    scratch.parent.mkdir(parents=True)
    scratch.write_bytes(b"RIFF")
    os.utime(scratch, (0, 0))

    call_command("prune", "--days", "1")

    assert HistoryRecord.objects.filter(task=task).exists()
    assert scratch.exists()
    with pytest.raises(CommandError, match="1 or more"):
        call_command("prune", "--days", "0")


def test_ensure_admin_creates_one_account_once(django_user_model, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-1")

    call_command("ensure_admin")
    call_command("ensure_admin")

    assert django_user_model.objects.filter(is_superuser=True).count() == 1
    assert django_user_model.objects.get(username="boss").check_password("a-long-password-1")


def test_ensure_admin_takes_an_empty_name_as_admin_and_explains_a_name_taken(django_user_model, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "")
    django_user_model.objects.create_user("admin", password="pw-plain-123")

    with pytest.raises(CommandError, match="'admin' is an ordinary account"):
        call_command("ensure_admin")

    assert not django_user_model.objects.filter(is_superuser=True).exists()


def test_prune_deletes_old_recordings(media_root):
    from chat.models import Recording

    old = media_root / "chat" / "recordings" / "old.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"RIFF")
    Recording.objects.create(file="chat/recordings/old.wav", duration=1.0, created_at="2000-01-01T00:00:00Z")
    Recording.objects.create(file="chat/recordings/new.wav", duration=1.0)

    call_command("prune", "--days", "30")

    assert list(Recording.objects.values_list("file", flat=True)) == ["chat/recordings/new.wav"]
    assert not old.exists()


def test_a_failed_clone_is_not_retried_onto_a_newer_clone_of_its_audio_id(staff_client, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    clone = Task.create_with_unique_id(HistoryType.AUDIO_CLONE, handler="voices.tasks.extract_voice", queue="CPU",
                                       parameters={"mode": "clone", "audio_id": "speaker_1"})
    clone.finish(Task.Status.FAILED, "no speech")

    response = staff_client.post("/admin/monitoring/task/", {"action": "retry_tasks", "_selected_action": [clone.pk]},
                                 follow=True)

    assert Task.objects.count() == 1
    assert "send the reference to /audio_clone anew" in response.content.decode()


@pytest.mark.usefixtures("double_engines")
def test_avatars_and_voices_that_queued_jobs_use_are_not_deleted(staff_client, user, media_root, monkeypatch):
    from tests.flows import clone_voice, train_avatar
    from training.models import Avatar
    from voices.models import Speaker

    api = APIClient()
    api.force_authenticate(user)
    clone_voice(api, media_root, "speaker_1")
    clone_voice(api, media_root, "idle_voice")
    avatar_id = train_avatar(api, media_root).json()["avatar_id"]
    monkeypatch.setattr(jobs, "send", lambda task: None)
    queued = api.post("/video_generation", {"model_name": "builtin", "model_param": avatar_id, "async": "1",
                                            "ref_audio_id": "speaker_1", "gpu_choice": "GPU0", "target_text": "hi"})
    assert queued.status_code == 202

    staff_client.post("/admin/training/avatar/", {"action": "delete_selected", "_selected_action": [avatar_id],
                                                  "post": "yes"})
    staff_client.post("/admin/voices/speaker/", {"action": "delete_selected",
                                                 "_selected_action": ["speaker_1", "idle_voice"], "post": "yes"})
    one_by_one = staff_client.post(reverse("admin:training_avatar_delete", args=[quote(avatar_id)]), {"post": "yes"})

    assert one_by_one.status_code == 200
    assert f"{avatar_id} (builtin) (used by {queued.json()['task_id']})" in one_by_one.content.decode()
    assert Avatar.objects.filter(pk=avatar_id).exists()
    assert Speaker.objects.filter(pk="speaker_1").exists()
    assert Speaker.objects.filter(pk="idle_voice").exists()  # Django refuses the whole selection

    staff_client.post("/admin/voices/speaker/", {"action": "delete_selected", "_selected_action": ["idle_voice"],
                                                 "post": "yes"})

    assert not Speaker.objects.filter(pk="idle_voice").exists()


@pytest.mark.usefixtures("double_engines")
def test_a_conversation_and_recording_that_a_queued_chat_job_uses_are_not_deleted(staff_client, user, media_root,
                                                                                   tmp_path, monkeypatch):
    from chat.models import Conversation, Recording
    from tests.flows import clone_voice, train_avatar
    from tests.media import tone_wav

    api = APIClient()
    api.force_authenticate(user)
    clone_voice(api, media_root, "speaker_1")
    avatar_id = train_avatar(api, media_root).json()["avatar_id"]
    monkeypatch.setattr(jobs, "send", lambda task: None)
    with open(tone_wav(tmp_path / "question.wav", seconds=2), "rb") as handle:
        queued = api.post("/chat_system", {"audio": handle, "model_name": "builtin", "model_param": avatar_id,
                                           "ref_audio_id": "speaker_1", "api_choice": "glm-4-plus", "async": "1"})
    assert queued.status_code == 202
    conversation, recording = Conversation.objects.get(), Recording.objects.get()

    for model, row in (("conversation", conversation), ("recording", recording)):
        staff_client.post(f"/admin/chat/{model}/", {"action": "delete_selected", "_selected_action": [str(row.pk)],
                                                    "post": "yes"})
        one_by_one = staff_client.post(reverse(f"admin:chat_{model}_delete", args=[quote(str(row.pk))]),
                                       {"post": "yes"})
        assert one_by_one.status_code == 200 and "is in use" in one_by_one.content.decode()

    assert Conversation.objects.filter(pk=conversation.pk).exists()
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_prune_deletes_old_failed_avatars_partial_outputs_and_queue_failures(media_root):
    import os

    from django_q.models import Failure

    from training.models import Avatar

    old = "2000-01-01T00:00:00Z"
    Avatar.objects.create(id="user_20000101", engine="builtin", source_video="a.mp4", epochs=1, status="failed",
                          created_at=old)
    retried = Avatar.objects.create(id="user_20000101_2", engine="builtin", source_video="a.mp4", epochs=1,
                                    status="failed", created_at=old)
    Task.create_with_unique_id(HistoryType.MODEL_TRAINING, handler="training.tasks.train", queue="GPU0",
                               parameters={"avatar_id": retried.pk})  # a queued retry will train it
    Avatar.objects.create(id="user_20000101_3", engine="builtin", source_video="a.mp4", epochs=1, status="ready",
                          created_at=old)
    partial = media_root / "voices" / "generated" / ".hello_6ff818d8.61379c4fd5874ff2.partial.wav"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"RIFF")
    os.utime(partial, (0, 0))
    Failure.objects.create(id="f" * 32, name="timed-out", func="monitoring.runner.run_task", started=old,
                           stopped=old, success=False)

    call_command("prune", "--days", "30")

    assert set(Avatar.objects.values_list("pk", flat=True)) == {"user_20000101_2", "user_20000101_3"}
    assert not partial.exists()
    assert not Failure.objects.exists()


def test_prune_deletes_old_outputs_that_no_task_lists(media_root, finished_task):
    import os

    _, listed = finished_task
    videos = media_root / "videos"
    unlisted, recent, read_by_a_job = videos / "gen_x_0123456789ab.mp4", videos / "new.mp4", videos / "input.mp4"
    for path in (unlisted, recent, read_by_a_job):
        path.write_bytes(b"video")
    for path in (listed, unlisted, read_by_a_job):
        os.utime(path, (0, 0))
    Task.create_with_unique_id(HistoryType.MODEL_TRAINING, handler="x", queue="GPU0",
                               parameters={"source_path": str(read_by_a_job)})

    call_command("prune", "--days", "30")

    assert not unlisted.exists()
    assert listed.exists() and recent.exists() and read_by_a_job.exists()


@pytest.mark.usefixtures("double_engines")
def test_the_admin_keeps_a_voice_whose_files_cannot_be_removed_and_says_why(staff_client, user, media_root,
                                                                             monkeypatch):
    from tests.doubles import unremovable_files
    from tests.flows import clone_voice
    from voices.models import Speaker

    api = APIClient()
    api.force_authenticate(user)
    clone_voice(api, media_root, "kept")
    unremovable_files(monkeypatch)

    response = staff_client.post("/admin/voices/speaker/", {
        "action": "delete_selected", "_selected_action": ["kept"], "post": "yes"}, follow=True)

    shown = [str(message) for message in response.context["messages"]]
    assert "kept was not deleted: its files cannot be removed (Permission denied)." in shown
    assert Speaker.objects.filter(pk="kept").exists()


def test_prune_removes_old_voice_and_avatar_folders_that_no_row_owns(media_root, user):
    import os

    from training.models import Avatar
    from voices.models import Speaker

    owned_voice = Speaker.objects.create(id="kept", name="kept", owner=user, status=Speaker.Status.READY).folder
    owned_avatar = Avatar.objects.create(id="user_kept", engine="builtin", owner=user, epochs=1,
                                         status=Avatar.Status.READY).folder
    orphan_voice = Speaker(id="gone").folder
    orphan_avatar = Avatar(id="user_gone").folder
    recent_orphan = Speaker(id="being_made").folder  # its job has just made it
    month_ago = time.time() - 40 * 86400
    for folder in (owned_voice, owned_avatar, orphan_voice, orphan_avatar, recent_orphan):
        folder.mkdir(parents=True)
        (folder / "sample.wav").write_bytes(b"voice")
    for folder in (owned_voice, owned_avatar, orphan_voice, orphan_avatar):
        os.utime(folder, (month_ago, month_ago))

    call_command("prune", "--days", "30")

    assert owned_voice.is_dir() and owned_avatar.is_dir() and recent_orphan.is_dir()
    assert not orphan_voice.exists() and not orphan_avatar.exists()


def test_the_admin_names_apps_and_models_in_the_readers_language(staff_client):
    page = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    for name in ("任务、历史与系统状态", "历史记录", "引擎报告", "数字人模型", "语音对话", "录音"):
        assert name in page
    assert "Engine reports" not in page
    assert "Engine reports" in staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("model", ["task", "historyrecord"])
def test_staff_view_job_records_but_neither_add_nor_edit_them(staff_client, finished_task, model):
    task, _ = finished_task
    pk = task.pk if model == "task" else HistoryRecord.objects.get(task=task).pk
    change_url = reverse(f"admin:monitoring_{model}_change", args=[quote(pk)])

    page = staff_client.get(change_url)
    saved = staff_client.post(change_url, {"status": "running", "handler": "os.system"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert saved.status_code == 403
    assert staff_client.get(reverse(f"admin:monitoring_{model}_add")).status_code == 403
    task.refresh_from_db()
    assert (task.status, task.handler) == (Task.Status.FAILED, "tests.jobs.count_job")


@pytest.mark.parametrize("url", ["training/avatar", "voices/speaker", "chat/recording", "chat/conversation"])
def test_staff_neither_add_nor_edit_avatars_voices_or_chat_rows(staff_client, url):
    response = staff_client.get(f"/admin/{url}/add/")

    assert response.status_code == 403


def test_a_rows_id_never_points_its_deletion_outside_its_folder(media_root, user):
    from chat.models import Recording
    from training.models import Avatar

    videos = media_root / "videos"
    videos.mkdir()
    (videos / "out.mp4").write_bytes(b"video")
    (media_root.parent / "canary.txt").write_text("keep")
    avatar = Avatar.objects.create(id="../videos", owner=user, engine="builtin", epochs=1)
    recording = Recording.objects.create(file="../canary.txt", duration=1, owner=user)

    for row in (avatar, recording):
        with pytest.raises(ValueError):
            row.delete()

    assert (videos / "out.mp4").is_file() and (media_root.parent / "canary.txt").is_file()


def test_staff_who_may_only_view_tasks_cannot_cancel_or_retry_them(client, django_user_model, finished_task,
                                                                   monkeypatch):
    from django.contrib.auth.models import Permission

    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_task", content_type__app_label="monitoring"))
    client.force_login(viewer)
    task, _ = finished_task

    page = client.get("/admin/monitoring/task/").content.decode()
    client.post("/admin/monitoring/task/", {"action": "retry_tasks", "_selected_action": [task.pk]})

    assert "retry_tasks" not in page and "cancel_tasks" not in page
    assert Task.objects.count() == 1


def test_cancel_names_the_tasks_it_asked_and_those_that_had_ended(staff_client, finished_task, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    queued = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="tests.jobs.count_job", queue="GPU0")
    ended, _ = finished_task

    response = staff_client.post("/admin/monitoring/task/", {"action": "cancel_tasks",
                                                             "_selected_action": [queued.pk, ended.pk]}, follow=True)

    text = response.content.decode()
    assert f"Asked to stop: {queued.pk}." in text
    assert f"Not cancelled (they had ended already): {ended.pk}." in text


def test_avatar_and_voice_statuses_show_in_the_readers_language(staff_client, user):
    from training.models import Avatar

    Avatar.objects.create(id="user_20260101", owner=user, engine="builtin", epochs=1, status=Avatar.Status.READY)

    english = staff_client.get("/admin/training/avatar/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = staff_client.get("/admin/training/avatar/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "可用" not in english and "可用" in chinese


@pytest.mark.parametrize("model", ["task", "historyrecord"])
def test_a_page_of_job_records_takes_the_same_queries_for_many_rows(staff_client, user, model,
                                                                    django_assert_max_num_queries):
    for _ in range(30):
        task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="tests.jobs.count_job", queue="GPU0",
                                          owner=user)
        HistoryRecord.objects.create(type=task.kind, status="queued", task=task, owner=user)

    with django_assert_max_num_queries(15):
        response = staff_client.get(f"/admin/monitoring/{model}/")

    assert response.status_code == 200


@pytest.mark.usefixtures("double_engines")
def test_deleting_a_user_deletes_what_they_own_with_its_files(staff_client, user, media_root):
    from django.contrib.auth import get_user_model

    from tests.flows import clone_voice, train_avatar
    from training.models import Avatar
    from voices.models import Speaker

    api = APIClient()
    api.force_authenticate(user)
    clone_voice(api, media_root, "speaker_1")
    avatar = Avatar.objects.get(pk=train_avatar(api, media_root).json()["avatar_id"])
    video = api.post("/video_generation", {"model_name": "builtin", "model_param": avatar.pk,
                                           "ref_audio_id": "speaker_1", "gpu_choice": "GPU0", "target_text": "hi"})
    output = media_root / "videos" / video.json()["video_path"].removeprefix("/video/").split("?")[0]
    folders = [avatar.folder, Speaker.objects.get().folder]
    assert output.is_file() and all(folder.is_dir() for folder in folders)
    delete_url = reverse("admin:auth_user_delete", args=[user.pk])

    confirmation = staff_client.get(delete_url).content.decode()
    staff_client.post(delete_url, {"post": "yes"})

    for summary in ("Avatars: 1", "Voices: 1", "Tasks: 3", "History records: 3"):
        assert summary in confirmation
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert not Avatar.objects.exists() and not Speaker.objects.exists()
    assert not Task.objects.exists() and not HistoryRecord.objects.exists()
    assert not output.exists() and not any(folder.exists() for folder in folders)
    from django.contrib.admin.models import DELETION, LogEntry
    assert LogEntry.objects.get(action_flag=DELETION).object_repr == user.username


def test_a_user_with_work_under_way_is_not_deleted_and_the_page_says_what_to_cancel(staff_client, user,
                                                                                    monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setattr(jobs, "enqueue", lambda task: None)
    queued = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="tests.jobs.count_job", queue="GPU0",
                                        owner=user)
    delete_url = reverse("admin:auth_user_delete", args=[user.pk])

    page = staff_client.post(delete_url, {"post": "yes"})
    bulk = staff_client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [user.pk],
                                                   "post": "yes"})

    assert f"task {queued.pk}" in page.content.decode() and f"task {queued.pk}" in bulk.content.decode()
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert Task.objects.filter(pk=queued.pk, status=Task.Status.QUEUED).exists()



def owner_of_a_voice(user, media_root):
    from tests.flows import clone_voice

    api = APIClient()
    api.force_authenticate(user)
    clone_voice(api, media_root, "speaker_1")


@pytest.mark.usefixtures("double_engines")
def test_staff_who_may_not_delete_voices_cannot_delete_a_user_who_owns_one(client, django_user_model, user,
                                                                           media_root):
    from django.contrib.auth.models import Permission

    from voices.models import Speaker

    owner_of_a_voice(user, media_root)
    clerk = django_user_model.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "delete_user"]))
    client.force_login(clerk)
    delete_url = reverse("admin:auth_user_delete", args=[user.pk])

    page = client.get(delete_url)
    posted = client.post(delete_url, {"post": "yes"})

    assert "voice" in page.content.decode() and posted.status_code == 403
    assert django_user_model.objects.filter(pk=user.pk).exists() and Speaker.objects.exists()


@pytest.mark.usefixtures("double_engines")
def test_a_user_whose_files_cannot_be_removed_keeps_the_account_tasks_and_history(staff_client, user, media_root,
                                                                                  monkeypatch):
    from django.contrib.admin.models import LogEntry

    from tests.doubles import unremovable_files
    from voices.models import Speaker

    owner_of_a_voice(user, media_root)
    unremovable_files(monkeypatch)

    response = staff_client.post(reverse("admin:auth_user_delete", args=[user.pk]), {"post": "yes"}, follow=True)

    text = response.content.decode()
    assert "cannot be removed" in text and "successfully" not in text
    assert type(user).objects.filter(pk=user.pk).exists() and Speaker.objects.exists()
    assert Task.objects.filter(owner=user).exists() and HistoryRecord.objects.filter(owner=user).exists()
    assert not LogEntry.objects.exists()


@pytest.mark.usefixtures("double_engines")
def test_deleting_selected_users_names_those_that_went_not_those_selected(staff_client, user, other_user, media_root,
                                                                          monkeypatch):
    from django.contrib.messages import get_messages

    from tests.doubles import unremovable_files

    owner_of_a_voice(user, media_root)
    unremovable_files(monkeypatch)

    response = staff_client.post("/admin/auth/user/", {"action": "delete_selected", "post": "yes",
                                                       "_selected_action": [user.pk, other_user.pk]})

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert said == ["speaker_1 was not deleted: its files cannot be removed (Permission denied).",
                    f"Deleted: {other_user.username}."]
    assert type(user).objects.filter(pk=user.pk).exists()
    assert not type(user).objects.filter(pk=other_user.pk).exists()
