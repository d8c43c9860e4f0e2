"""The end-user pages, driven in Debian's Chromium through Playwright against the live server.

Jobs run inline (conftest's sync queue) with the engine doubles, so every video and voice the
pages play is real media made by ffmpeg. Screenshots of each page land in test-artifacts/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from monitoring.models import HistoryRecord, HistoryType, Task
from tests.flows import clone_voice, train_avatar
from tests.media import test_video
from training.models import Avatar
from voices.models import Speaker

# Playwright's sync API runs an event loop in this thread; the ORM calls below are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
TIMEOUT_MS = 20_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
                # A fake microphone (a beeping tone) that needs no permission prompt, for MediaRecorder.
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, user, double_engines):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/accounts/login/?next=/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-alice-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def progress_value(page, selector: str) -> float:
    return page.eval_on_selector(f"{selector} progress", "bar => bar.value")


def wait_playable(page, selector: str) -> float:
    """Wait until the media element has loaded its metadata; return its duration."""
    page.wait_for_function(
        "s => { const m = document.querySelector(s); return m && m.readyState >= 1 && m.duration > 0; }",
        arg=selector,
    )
    return page.eval_on_selector(selector, "m => m.duration")


def test_it_asks_for_login_first(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()

    page.goto("/pages/status")

    assert "/accounts/login/" in page.url
    screenshot(page, "login")
    context.close()


def test_it_generates_a_video_and_plays_it(page, api, media_root):
    clone_voice(api, media_root, "speaker_1")
    avatar_id = train_avatar(api, media_root).data["avatar_id"]
    page.reload()

    page.wait_for_selector(f"#avatar option[value='{avatar_id}']", state="attached")
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
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

    assert "ref_audio_id: no cloned voice 'speaker_1'" in page.inner_text("#generate-message")
    assert page.is_enabled("#generate")
    assert not Task.objects.filter(kind=HistoryType.VIDEO_GENERATION).exists()


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
    assert page.is_disabled("#cancel-task")
    page.wait_for_selector(f"#avatars td:text-is('{avatar.id}')")
    screenshot(page, "training")

    page.click("#use-avatar")
    page.wait_for_selector(f"#avatar option[value='{avatar.id}']", state="attached")

    assert page.input_value("#avatar") == avatar.id


def test_it_aborts_the_upload_when_cancel_is_clicked(page, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(8 * 1024 * 1024))
    page.goto("/pages/training")
    # Throttle uploads to 1 MB/s so the upload is still running when the user clicks cancel.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1024 * 1024})
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


def test_it_cancels_a_queued_training_task(page, tmp_path, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # no worker runs: the task waits in its queue
    video = test_video(tmp_path / "me.mp4", seconds=1)
    page.goto("/pages/training")
    page.set_input_files("#ref-video", str(video))
    page.click("#train")
    page.wait_for_selector("#training:not([hidden])")

    page.click("#cancel-task")
    page.wait_for_selector("#train-progress [data-text]:text('已取消')")

    assert Task.objects.get().status == Task.Status.CANCELLED
    assert page.inner_text("#train-message") == "Cancelled before it started."
    assert page.is_disabled("#cancel-task")


def test_it_clones_a_recorded_voice_and_speaks_with_it(page):
    page.goto("/pages/voices")

    page.click("#record")
    page.wait_for_timeout(3600)
    page.click("#record")
    page.wait_for_selector("#recording:not([hidden])")
    page.fill("#audio-id", "my_voice")
    page.fill("#voice-name", "我的声音")
    page.click("#clone")
    page.wait_for_selector("#speak-voice option[value='my_voice']", state="attached")

    assert progress_value(page, "#clone-progress") == 100
    assert Speaker.objects.get(pk="my_voice").reference_path.is_file()
    page.wait_for_selector("#voices td:text-is('my_voice')")

    page.fill("#speak-text", "今天天气很好")
    page.click("#speak")
    duration = wait_playable(page, "#speech")

    assert duration == pytest.approx(0.08 * len("今天天气很好"), abs=0.1)  # ToneVoice's length per character
    assert "音频生成成功" in page.inner_text("#speak-message")
    screenshot(page, "voices")


def test_it_shows_the_servers_message_for_a_text_file_as_voice(page, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 100)
    page.goto("/pages/voices")

    page.set_input_files("#reference-file", str(text))
    page.fill("#audio-id", "bad_voice")
    page.click("#clone")
    page.wait_for_selector("#clone-message.error")

    assert "original_audio_path" in page.inner_text("#clone-message")
    assert page.is_enabled("#clone")
    assert not Speaker.objects.filter(pk="bad_voice").exists()


def test_it_holds_a_voice_conversation_turn_after_turn(page, api, media_root):
    clone_voice(api, media_root, "speaker_1")
    train_avatar(api, media_root)
    page.goto("/pages/chat")
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
    talk = page.locator("#talk")

    for turn in (1, 2):
        talk.hover()
        page.mouse.down()
        page.wait_for_timeout(1200)
        page.mouse.up()
        page.wait_for_selector(f"#turns .turn:nth-child({turn}) video")
        wait_playable(page, f"#turns .turn:nth-child({turn}) video")

    replies = page.locator("#turns [data-reply]").all_inner_texts()
    transcripts = page.locator("#turns [data-transcript]").all_inner_texts()
    assert transcripts == ["hello there", "hello there"]
    # EchoModel tells how many messages it saw: the second turn carries the first as history.
    assert '"messages": 2' in replies[0] and '"messages": 4' in replies[1]
    assert Task.objects.filter(kind=HistoryType.CHAT_SYSTEM).count() == 2
    conversation = {t.parameters["conversation_id"] for t in Task.objects.filter(kind=HistoryType.CHAT_SYSTEM)}
    assert conversation == {page.inner_text("#conversation-id")}
    screenshot(page, "chat")


def test_it_fills_in_the_system_status_and_fits_a_phone(page, settings):
    settings.STATUS_POLL_SECONDS = 0.3
    page.goto("/pages/status")

    page.wait_for_function(
        "() => document.querySelector('[data-metric=cpu] [data-value]').textContent.endsWith('%')"
    )
    page.wait_for_timeout(800)

    for metric in ("cpu", "memory", "disk"):
        value = page.inner_text(f"[data-metric={metric}] [data-value]")
        assert 0 <= float(value.rstrip("%")) <= 100
    assert "GiB" in page.inner_text("[data-metric=memory] [data-detail]")
    # The chart has drawn something: not every pixel of the canvas is transparent.
    drawn = page.eval_on_selector(
        "[data-metric=memory] canvas",
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 == 3 && v > 0)",
    )
    assert drawn
    screenshot(page, "status")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/pages/chat")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.is_hidden(".mainnav")
    page.click(".nav-toggle-label")
    assert page.is_visible(".mainnav")
    screenshot(page, "chat-phone")


def test_it_pages_history_by_type_and_shows_failures(page, user):
    for n in range(12):
        HistoryRecord.objects.create(
            type=HistoryType.VIDEO_GENERATION, owner=user, status=HistoryRecord.Status.COMPLETED, duration=1.5,
            parameters={"model_name": "builtin", "model_param": f"avatar_{n}"},
            result={"video_path": f"/video/v{n}.mp4"},
        )
    HistoryRecord.objects.create(
        type=HistoryType.AUDIO_CLONE, owner=user, status=HistoryRecord.Status.FAILED,
        parameters={"audio_id": "x"}, result={"message": "The reference has less than 3 s of audio."},
    )
    page.goto("/pages/history")

    page.select_option("#page-size", "10")
    page.wait_for_selector("#page-label:text('1 / 2')")
    assert page.locator("#history tbody tr").count() == 10
    page.click("#next")
    page.wait_for_selector("#page-label:text('2 / 2')")
    assert page.locator("#history tbody tr").count() == 2
    assert page.get_attribute("#history tbody tr:first-child a[data-kind=video]", "href").startswith("/video/v")
    screenshot(page, "history")

    page.click("#tabs [data-type=audio_clone]")
    page.wait_for_selector("#page-label:text('1 / 1')")

    assert "less than 3 s" in page.inner_text("#history .message.error")
    assert page.locator("#history tbody tr").count() == 1


def test_it_switches_to_english(page):
    page.goto("/pages/status")

    page.select_option("select[name=language]", "en")
    page.wait_for_load_state()
    page.wait_for_selector("html[lang=en]")

    assert "Video generation" in page.inner_text(".mainnav")
    assert page.url.endswith("/pages/status")
