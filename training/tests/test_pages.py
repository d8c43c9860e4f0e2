"""The training page: uploads with progress and cancel, following trainings."""

from __future__ import annotations

import os
import time

import pytest

from monitoring.models import Task
from tests.browser import posts_to, progress_value, screenshot, submit_training, throttle_uploads
from tests.flows import train_avatar
from tests.media import test_video
from training.models import Avatar

# The fixtures (browser, page, no_worker, chinese_by_default) come from tests/browser.py (conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chinese_by_default")]


def test_a_training_the_server_refuses_leaves_no_upload_bar_behind(page, tmp_path):
    page.goto("/pages/training")
    page.set_input_files("#ref-video", str(test_video(tmp_path / "me.mp4", seconds=1)))
    page.fill("#custom-params", "lr=fast")

    page.click("#train")
    page.wait_for_selector("#upload-message.error")

    assert page.inner_text("#upload-message").startswith("自定义参数：")  # the field's label, not custom_params
    assert page.is_hidden("#upload-progress")
    assert page.is_enabled("#train")


def test_it_trains_an_avatar_from_an_uploaded_video(page, media_root, tmp_path):
    video = test_video(tmp_path / "me.mp4", seconds=2)
    page.goto("/pages/training")

    page.set_input_files("#ref-video", str(video))
    page.fill("#epoch", "3")
    page.fill("#custom-params", "lr=0.01")
    page.click("#train")
    page.wait_for_selector("#use-avatar:not([hidden])")

    avatar = Avatar.objects.get()
    assert progress_value(page, "#upload-progress") == 100
    assert progress_value(page, "#train-progress") == 100
    assert avatar.id in page.inner_text("#train-message")
    assert "已完成" in page.inner_text("#train-progress")
    assert "上传完成" in page.inner_text("#upload-progress") and "检查" not in page.inner_text("#upload-progress")
    assert page.is_hidden("#cancel-task")
    page.wait_for_selector(f"#avatars td:text-is('{avatar.id}')")
    assert page.inner_text(f"#avatars tr:has(td:text-is('{avatar.id}')) td:nth-child(2)") == "me"  # me.mp4
    screenshot(page, "training")

    page.click("#use-avatar")
    page.wait_for_selector(f"#avatar option[value='{avatar.id}']", state="attached")

    assert page.input_value("#avatar") == avatar.id


def test_an_engine_only_gpu_hosts_can_run_offers_only_their_gpus(page, settings):
    """A web host without checkouts: SyncTalk runs only where the worker of GPU1 reported it usable."""
    from monitoring.models import EngineReport

    synctalk = "training.engines.synctalk.SyncTalk"
    settings.TALKING_HEAD_ENGINES = {**settings.TALKING_HEAD_ENGINES, "SyncTalk": synctalk}
    settings.SYNCTALK_HOME = ""
    EngineReport.objects.create(host="gpu-b", queue="GPU1", engines={synctalk: ""})
    gpus = "select => [...select.options].map((option) => [option.value, option.disabled])"

    page.goto("/pages/training")
    page.select_option("#engine", "SyncTalk")

    assert page.eval_on_selector("#gpu", gpus) == [["GPU0", True], ["GPU1", False]]
    assert page.input_value("#gpu") == "GPU1"
    page.select_option("#engine", "builtin")
    assert page.eval_on_selector("#gpu", gpus) == [["GPU0", False], ["GPU1", False]]


def test_it_aborts_the_upload_when_cancel_is_clicked(page, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(8 * 1024 * 1024))
    page.goto("/pages/training")
    throttle_uploads(page, 1024 * 1024)  # the upload is still running when the user clicks cancel
    page.set_input_files("#ref-video", str(big))

    page.click("#train")
    page.wait_for_selector("#cancel-upload:not([hidden])")
    page.click("#cancel-upload")
    page.wait_for_selector("#upload-message:text('上传已取消')")

    assert page.is_hidden("#cancel-upload")
    assert page.is_enabled("#train")
    assert progress_value(page, "#upload-progress") < 100
    assert Task.objects.count() == 0
    assert Avatar.objects.count() == 0


def test_it_hides_upload_cancel_once_the_video_is_sent(page, tmp_path, monkeypatch, no_worker):
    import training.submission

    checked = training.submission.media_input

    def slow_check(*args, **kwargs):
        time.sleep(2)  # the server probing a large video after the body arrived
        return checked(*args, **kwargs)

    monkeypatch.setattr(training.submission, "media_input", slow_check)
    video = test_video(tmp_path / "me.mp4", seconds=1)
    page.goto("/pages/training")
    page.set_input_files("#ref-video", str(video))

    page.click("#train")
    page.wait_for_function("() => document.querySelector('#upload-progress progress').value == 100")

    assert page.is_hidden("#cancel-upload")
    assert "服务器检查视频中" in page.inner_text("#upload-progress")
    page.wait_for_selector("#training:not([hidden])")
    assert page.inner_text("#task-id") == Task.objects.get().pk
    assert page.is_enabled("#cancel-task")


def test_it_refuses_a_video_over_the_upload_limit_or_of_another_type(page, tmp_path, settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024  # the server's limit is what the page checks against
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(2 * 1024 * 1024))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page.goto("/pages/training")
    posts = posts_to(page, "/model_training")

    page.set_input_files("#ref-video", str(big))
    page.click("#train")
    page.wait_for_selector("#upload-message.error")

    assert page.inner_text("#upload-message") == "文件太大: 2 MB, 上限为 1 MB"

    page.set_input_files("#ref-video", str(notes))
    page.click("#train")
    page.wait_for_selector("#upload-message.error:text('不支持的文件类型')")

    assert posts == []
    assert page.is_enabled("#train")
    assert page.is_hidden("#upload-progress")


def test_it_cancels_a_queued_training_task(page, tmp_path, no_worker):
    page.goto("/pages/training")
    submit_training(page, test_video(tmp_path / "me.mp4", seconds=1))

    page.click("#cancel-task")
    page.wait_for_selector("#train-progress [data-text]:text('已取消')")

    assert Task.objects.get().status == Task.Status.CANCELLED
    assert page.inner_text("#train-message") == "任务在开始前已取消。"
    assert page.is_hidden("#cancel-task")


def test_it_follows_the_latest_training_and_keeps_its_cancel(page, tmp_path, no_worker):
    video = test_video(tmp_path / "me.mp4", seconds=1)
    page.goto("/pages/training")
    first = submit_training(page, video)
    second = submit_training(page, video)

    Task.objects.get(pk=first).request_cancel()  # in another tab, say
    for _ in range(2):  # the page has had time to notice, had it still followed the first task
        with page.expect_request(lambda r: r.url.endswith(f"/api/tasks/{second}")):
            pass

    assert page.is_enabled("#cancel-task")
    assert page.inner_text("#train-message") == ""
    page.click("#cancel-task")
    page.wait_for_selector("#train-progress [data-text]:text('已取消')")
    assert Task.objects.get(pk=second).status == Task.Status.CANCELLED


def test_it_keeps_following_a_training_through_a_failed_status_query(page, tmp_path, no_worker):
    page.goto("/pages/training")
    queries = []

    def bad_gateway_once(route):
        queries.append(route.request.url)
        if len(queries) == 2:
            route.fulfill(status=502, content_type="text/html", body="<html><body>502 Bad Gateway</body></html>")
        else:
            route.continue_()

    page.route("**/api/tasks/*", bad_gateway_once)

    submit_training(page, test_video(tmp_path / "me.mp4", seconds=1))
    page.wait_for_selector("#train-progress [data-text]:text('正在重试')")
    page.wait_for_function("() => !document.querySelector('#train-progress [data-text]').textContent.includes('重试')")

    assert len(queries) >= 3
    assert page.inner_text("#train-message") == ""
    page.click("#cancel-task")
    page.wait_for_selector("#train-progress [data-text]:text('已取消')")
    assert Task.objects.get().status == Task.Status.CANCELLED


def test_it_follows_the_newest_unfinished_training_again_after_a_reload(page, api, media_root, no_worker):
    older = train_avatar(api, media_root).data["task_id"]
    Task.objects.get(pk=older).claim(pid=1, host="worker")
    newer = train_avatar(api, media_root).data["task_id"]
    task = Task.objects.get(pk=newer)

    page.goto("/pages/training")
    page.wait_for_selector("#training:not([hidden])")

    assert page.inner_text("#task-id") == newer
    assert "排队中" in page.inner_text("#train-progress")
    assert page.inner_text("#train-message") == "继续跟踪未完成的训练"
    task.claim(pid=1, host="worker")
    task.append_log(["epoch 1/2: loss 0.5"])
    Task.objects.filter(pk=newer).update(progress=40, log_tail=task.log_tail)
    page.wait_for_selector("#train-progress [data-percent]:text('40%')")
    assert page.inner_text("#train-progress pre.log") == "epoch 1/2: loss 0.5"

    page.click("#cancel-task")
    page.wait_for_selector("#train-message:text('已请求取消任务')")
    task.finish(Task.Status.CANCELLED, "Cancelled.")
    page.wait_for_selector("#train-progress [data-text]:text('已取消')")

    assert Task.objects.get(pk=newer).cancel_requested
    assert Task.objects.get(pk=older).status == Task.Status.RUNNING
    assert page.is_hidden("#cancel-task")


def test_it_shows_no_training_when_none_is_unfinished(page, api, media_root):
    train_avatar(api, media_root)  # runs at once and ends

    page.goto("/pages/training")
    page.wait_for_selector("#avatars tbody tr")

    assert page.is_hidden("#training")
    assert page.inner_text("#upload-message") == ""
