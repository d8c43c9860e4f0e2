"""The video generation page."""

from __future__ import annotations

import pytest

from monitoring.models import HistoryType, Task
from tests.browser import failing_job, progress_value, queue_jobs_without_worker, screenshot, wait_playable
from tests.flows import clone_voice, train_avatar
from training.models import Avatar
from voices.models import Speaker

# The fixtures (browser, page, no_worker, chinese_by_default) come from tests/browser.py (conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chinese_by_default")]


def test_it_generates_a_video_and_plays_it(page, api, media_root):
    page.wait_for_selector("#voice option[disabled]", state="attached")
    assert page.is_visible("#missing-choices")  # where to make an avatar and a voice
    clone_voice(api, media_root, "speaker_1")
    avatar_id = train_avatar(api, media_root).data["avatar_id"]
    page.reload()

    page.wait_for_selector(f"#avatar option[value='{avatar_id}']", state="attached")
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
    assert page.is_hidden("#missing-choices")
    assert page.locator("#gpu option").all_inner_texts() == ["GPU0", "GPU1"]
    page.select_option("#gpu", "GPU1")
    page.fill("#text", "你好，欢迎使用数字人平台")
    page.click("#generate")
    duration = wait_playable(page, "#video")

    assert progress_value(page, "#generate-progress") == 100
    assert duration > 0.5
    src = page.get_attribute("#video", "src")
    assert src.startswith("/video/") and "?t=" in src
    assert page.get_attribute("#download", "href") == src.split("?")[0]
    assert "视频生成成功" in page.inner_text("#generate-message")
    assert Task.objects.get(kind=HistoryType.VIDEO_GENERATION).gpu == "GPU1"
    screenshot(page, "generation")


def test_it_shows_the_servers_message_when_generation_is_refused(page, api, media_root):
    clone_voice(api, media_root, "speaker_1")
    train_avatar(api, media_root)
    page.reload()
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
    page.fill("#text", "你好")
    Speaker.objects.filter(pk="speaker_1").delete()  # gone between loading the page and submitting

    page.click("#generate")
    page.wait_for_selector("#generate-message.error")

    assert "克隆声音：没有克隆声音 'speaker_1'" in page.inner_text("#generate-message")  # the field's label
    assert page.is_enabled("#generate")
    assert page.is_hidden("#generate-progress")  # no bar stuck at "submitting" under the error
    assert not Task.objects.filter(kind=HistoryType.VIDEO_GENERATION).exists()


def test_it_cancels_a_render_while_it_runs(page, api, media_root, monkeypatch):
    clone_voice(api, media_root, "speaker_1")
    train_avatar(api, media_root)
    queue_jobs_without_worker(monkeypatch)
    page.reload()
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
    assert page.is_hidden("#cancel-generate")
    page.fill("#text", "你好")

    page.click("#generate")
    page.wait_for_selector("#cancel-generate:not([hidden])")
    task = Task.objects.get(kind=HistoryType.VIDEO_GENERATION)
    task.claim(pid=1, host="worker")
    page.wait_for_selector("#generate-progress [data-text]:text('运行中')")
    page.click("#cancel-generate")
    page.wait_for_selector("#generate-message:text('已请求取消任务')")

    task.refresh_from_db()
    assert task.cancel_requested
    assert page.is_disabled("#generate")
    task.finish(Task.Status.CANCELLED, "Cancelled.")
    page.wait_for_selector("#generate-progress [data-text]:text('已取消')")
    assert page.inner_text("#generate-message") == "Cancelled."
    assert page.is_hidden("#cancel-generate")
    assert page.is_enabled("#generate")
    assert page.is_hidden("#result")


def test_it_follows_an_unfinished_render_again_after_a_reload(page, api, media_root, monkeypatch):
    from monitoring.runner import run_task

    clone_voice(api, media_root, "speaker_1")
    avatar_id = train_avatar(api, media_root).data["avatar_id"]
    queue_jobs_without_worker(monkeypatch)
    task_id = api.post("/video_generation", {
        "model_name": "builtin", "model_param": avatar_id, "ref_audio_id": "speaker_1", "gpu_choice": "GPU0",
        "target_text": "你好", "async": "1",
    }).data["task_id"]
    from voices.models import Speaker
    Speaker.objects.create(id="newer_voice", name="newer_voice", engine="builtin", status=Speaker.Status.READY,
                           owner=Speaker.objects.get(pk="speaker_1").owner)  # listed first

    page.reload()
    page.wait_for_selector("#cancel-generate:not([hidden])")
    page.wait_for_selector("#voice option[value='newer_voice']", state="attached")

    # The form shows what the followed render was asked for.
    assert page.input_value("#text") == "你好"
    assert page.input_value("#avatar") == avatar_id and page.input_value("#voice") == "speaker_1"
    assert "排队中" in page.inner_text("#generate-progress")
    assert page.is_disabled("#generate")
    run_task(task_id)  # a worker takes it up
    wait_playable(page, "#video")
    assert "视频生成成功" in page.inner_text("#generate-message")
    assert page.is_hidden("#cancel-generate")
    assert page.is_enabled("#generate")


def test_it_shows_the_log_of_a_failed_render(page, api, media_root, monkeypatch):
    from tests.doubles import StillTalkingHead

    clone_voice(api, media_root, "speaker_1")
    train_avatar(api, media_root)
    failing_job(monkeypatch, StillTalkingHead, "render")
    page.reload()
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
    page.fill("#text", "你好")

    page.click("#generate")
    page.wait_for_selector("#generate-message.error")

    assert page.inner_text("#generate-message") == "The engine ran out of GPU memory."
    assert page.inner_text("#generate-progress pre.log") == "loading the model\nCUDA out of memory"
    assert page.is_enabled("#generate")


@pytest.mark.parametrize("path", ["/", "/pages/chat"])
def test_choosing_an_avatar_selects_the_gpu_it_was_trained_on(page, user, path):
    for avatar_id, gpu in (("user_a", "GPU1"), ("user_b", "GPU0")):
        Avatar.objects.create(id=avatar_id, engine="builtin", status=Avatar.Status.READY, source_video="ref.mp4",
                              epochs=2, gpu=gpu, owner=user)

    page.goto(path)
    page.wait_for_selector("#avatar option[value='user_b']", state="attached")

    assert page.input_value("#gpu") == {"user_a": "GPU1", "user_b": "GPU0"}[page.input_value("#avatar")]
    for avatar_id, gpu in (("user_a", "GPU1"), ("user_b", "GPU0")):
        page.select_option("#avatar", avatar_id)
        assert page.input_value("#gpu") == gpu
