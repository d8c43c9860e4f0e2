"""The end-user pages, driven in Debian's Chromium through Playwright against the live server.

Jobs run inline (conftest's sync queue) with the engine doubles, so every video and voice the
pages play is real media made by ffmpeg. Screenshots of each page land in test-artifacts/.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from monitoring.models import HistoryRecord, HistoryType, Task
from tests.flows import clone_voice, train_avatar
from tests.media import test_video, tone_wav
from training.models import Avatar
from voices.models import Speaker

# Playwright's sync API runs an event loop in this thread; the ORM calls below are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
TIMEOUT_MS = 20_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def chinese_by_default(settings):
    """The pages as their users see them: in Chinese, unless the browser asks for English."""
    settings.LANGUAGE_CODE = "zh-hans"


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


@pytest.fixture
def no_worker(monkeypatch):
    """No worker runs: the jobs the pages submit wait in their queues."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def progress_value(page, selector: str) -> float:
    return page.eval_on_selector(f"{selector} progress", "bar => bar.value")


def posts_to(page, path: str) -> list:
    """The POST requests the page sends to `path` from now on."""
    requests = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith(path) and requests.append(r))
    return requests


def throttle_uploads(page, bytes_per_second: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second})


def submit_training(page, video: Path) -> str:
    """Upload `video` on the training page; return the id of the task the page then follows."""
    shown = page.text_content("#task-id")
    page.set_input_files("#ref-video", str(video))
    page.click("#train")
    page.wait_for_function("shown => document.querySelector('#task-id').textContent !== shown", arg=shown)
    return page.text_content("#task-id")


def wait_until(page, condition, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait for a condition on the test's side (route handlers and events run while Playwright waits)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def record(page, milliseconds: int) -> None:
    """Record from the fake microphone on the voices page for about `milliseconds`."""
    page.click("#record")
    page.wait_for_selector("#record:text('停止录音')")
    page.wait_for_timeout(milliseconds)
    page.click("#record")
    page.wait_for_selector("#recording:not([hidden])")


def wait_playable(page, selector: str) -> float:
    """Wait until the media element has loaded its metadata; return its duration."""
    page.wait_for_function(
        "s => { const m = document.querySelector(s); return m && m.readyState >= 1 && m.duration > 0; }",
        arg=selector,
    )
    return page.eval_on_selector(selector, "m => m.duration")


def failing_job(monkeypatch, cls, method: str) -> None:
    """Make an engine double's `method` log two lines and then fail, as an engine that breaks does."""
    from training.engines.base import EngineError

    def fail(self, *args):
        progress = args[-1]
        progress.log("loading the model")
        progress.log("CUDA out of memory")
        raise EngineError("The engine ran out of GPU memory.")

    monkeypatch.setattr(cls, method, fail)


def queue_jobs_without_worker(monkeypatch) -> None:
    """From now on, jobs wait in their queues (as `no_worker`, after a setup that needed them run)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)


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

    assert "ref_audio_id：没有克隆声音 'speaker_1'" in page.inner_text("#generate-message")
    assert page.is_enabled("#generate")
    assert page.is_hidden("#generate-progress")  # no bar stuck at "submitting" under the error
    assert not Task.objects.filter(kind=HistoryType.VIDEO_GENERATION).exists()


def test_a_training_the_server_refuses_leaves_no_upload_bar_behind(page, tmp_path):
    page.goto("/pages/training")
    page.set_input_files("#ref-video", str(test_video(tmp_path / "me.mp4", seconds=1)))
    page.fill("#custom-params", "lr=fast")

    page.click("#train")
    page.wait_for_selector("#upload-message.error")

    assert page.inner_text("#upload-message").startswith("custom_params：")
    assert page.is_hidden("#upload-progress")
    assert page.is_enabled("#train")


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

    page.reload()
    page.wait_for_selector("#cancel-generate:not([hidden])")

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


def test_the_chat_page_says_what_to_configure_when_no_language_model_is_usable(page, settings):
    settings.LLM_ENGINES = {"glm-4-plus": "chat.engines.zhipu.Zhipu"}
    settings.ZHIPUAI_API_KEY = ""

    page.goto("/pages/chat")

    page.wait_for_selector("#chat-message:has-text('ZHIPUAI_API_KEY')")


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
    assert page.is_disabled("#cancel-task")
    page.wait_for_selector(f"#avatars td:text-is('{avatar.id}')")
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


def test_voice_engines_and_language_models_not_configured_are_offered_disabled(page, settings):
    settings.VOICE_ENGINES = {**settings.VOICE_ENGINES, "gpt-sovits": "voices.engines.gpt_sovits.GPTSoVITS"}
    settings.GPT_SOVITS_URL = ""
    settings.LLM_ENGINES = {**settings.LLM_ENGINES, "zhipu": "chat.engines.zhipu.Zhipu"}
    settings.ZHIPUAI_API_KEY = ""
    options = "select => [...select.options].map((option) => [option.value, option.disabled, option.title])"

    page.goto("/pages/voices")
    voices = page.eval_on_selector("#voice-engine", options)
    page.goto("/pages/chat")
    models = page.eval_on_selector("#llm", options)

    assert voices[0] == ["builtin", False, ""]
    assert voices[1][:2] == ["gpt-sovits", True] and "GPT_SOVITS_URL" in voices[1][2]
    assert models[0] == ["glm-4-plus", False, ""]
    assert models[1][:2] == ["zhipu", True] and "ZHIPUAI_API_KEY" in models[1][2]


APP_ON_ANOTHER_ORIGIN = """async ([site, token, taskId]) => {
  const answer = await fetch(`${site}/api/tasks/${taskId}`, { headers: { Authorization: `Token ${token}` } });
  const task = await answer.json();
  const video = document.createElement("video");
  video.src = site + task.result.video_path + "?t=" + Date.now();  // as the spec's client does
  await new Promise((loaded, failed) => {
    video.onloadedmetadata = loaded;
    video.onerror = () => failed(new Error(`video error ${video.error && video.error.code}`));
  });
  return video.duration;
}"""


@pytest.fixture
def app_origin():
    """A page served from another port of loopback: another origin, in the site's address space
    (a public page may reach a loopback server only through Private Network Access preflights)."""
    import http.server
    import threading

    class App(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>app</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_browser_app_on_another_origin_plays_its_video_with_a_token(browser, live_server, user, settings,
                                                                      media_root, app_origin):
    """CORS for the origins an operator allows, and a signed link the <video> element opens
    without the token (it cannot send one) and without any session."""
    from rest_framework.authtoken.models import Token

    settings.CORS_ALLOWED_ORIGINS = [app_origin]
    (media_root / "videos").mkdir()
    test_video(media_root / "videos" / "made.mp4", seconds=2)
    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="x", queue="GPU0", owner=user)
    task.finish(Task.Status.SUCCEEDED, result={"video_path": "/video/made.mp4"})
    token = Token.objects.create(user=user).key
    context = browser.new_context()  # signed in nowhere
    page = context.new_page()
    page.goto(app_origin)

    duration = page.evaluate(APP_ON_ANOTHER_ORIGIN, [live_server.url, token, task.pk])
    settings.CORS_ALLOWED_ORIGINS = []
    refused = page.evaluate(f"fetch('{live_server.url}/api/status').then(() => 'read', () => 'refused')")
    context.close()

    assert duration == pytest.approx(2.0, abs=0.1)
    assert refused == "refused"


def test_the_specs_sample_client_posts_with_a_bare_fetch(page):
    """api-spec.zh.md's client sends FormData with no CSRF token; Chromium marks it same-origin."""
    status, body = page.evaluate("""async () => {
        const response = await fetch("/save_audio", { method: "POST", body: new FormData() });
        return [response.status, await response.json()];
    }""")

    assert status == 400, body  # past the CSRF check, refused for the missing recording
    assert body["status"] == "error" and "audio" in body["message"]


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
    assert page.is_disabled("#cancel-task")


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
    assert page.is_disabled("#cancel-task")


def test_it_shows_no_training_when_none_is_unfinished(page, api, media_root):
    train_avatar(api, media_root)  # runs at once and ends

    page.goto("/pages/training")
    page.wait_for_selector("#avatars tbody tr")

    assert page.is_hidden("#training")
    assert page.inner_text("#upload-message") == ""


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


def test_it_follows_an_unfinished_clone_and_then_speech_again_after_a_reload(page, api, media_root, no_worker):
    from monitoring.runner import run_task

    clone = clone_voice(api, media_root, "waiting_voice").data["task_id"]  # queued: no worker runs

    page.goto("/pages/voices")
    page.wait_for_selector("#clone-message:text('继续跟踪未完成的声音克隆')")
    assert "排队中" in page.inner_text("#clone-progress")
    run_task(clone)
    page.wait_for_selector("#clone-message:text('声音克隆成功: waiting_voice')")
    page.wait_for_selector("#voices td:text-is('waiting_voice')")

    speech = api.post("/audio_clone", {"audio_id": "waiting_voice", "gen_audio_id": "later", "generate_text": "你好",
                                       "async": "1"}).data["task_id"]
    page.reload()
    page.wait_for_selector("#speak-message:text('继续跟踪未完成的语音合成')")
    run_task(speech)
    wait_playable(page, "#speech")
    assert page.inner_text("#speak-message") == "音频生成成功"


def test_a_user_deletes_a_voice_and_an_avatar_of_their_own_from_the_pages(page, api, media_root):
    clone_voice(api, media_root, "old_voice")
    avatar_id = train_avatar(api, media_root).json()["avatar_id"]
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto("/pages/voices")
    page.click("#voices tr:has(td:text-is('old_voice')) button")
    page.wait_for_selector("#speak-message:text('声音已删除')")
    page.wait_for_selector("#voices td:text-is('old_voice')", state="detached")
    page.goto("/pages/training")
    page.click(f"#avatars tr:has(td:text-is('{avatar_id}')) button")
    page.wait_for_selector("#upload-message:text('模型已删除')")
    page.wait_for_selector(f"#avatars td:text-is('{avatar_id}')", state="detached")

    assert not Speaker.objects.exists() and not Avatar.objects.exists()


def test_the_english_pages_show_the_servers_chinese_answers_in_english(page, api, media_root):
    clone_voice(api, media_root, "old_voice")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/pages/voices")
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("html[lang=en]")

    page.click("#voices tr:has(td:text-is('old_voice')) button")

    page.wait_for_selector("#speak-message:text-is('Voice deleted')")  # the API's own answer is "声音已删除"


def test_it_shows_the_log_of_a_failed_synthesis(page, api, media_root, monkeypatch):
    from tests.doubles import ToneVoice

    clone_voice(api, media_root, "speaker_1")
    failing_job(monkeypatch, ToneVoice, "synthesize")
    page.goto("/pages/voices")
    page.wait_for_selector("#speak-voice option[value='speaker_1']", state="attached")
    page.fill("#speak-text", "今天天气很好")

    page.click("#speak")
    page.wait_for_selector("#speak-message.error")

    assert page.inner_text("#speak-message") == "The engine ran out of GPU memory."
    assert page.inner_text("#speak-progress pre.log") == "loading the model\nCUDA out of memory"
    assert page.is_hidden("#speech")


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


def test_it_cancels_a_reference_upload_and_clones_afterwards(page, tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(os.urandom(8 * 1024 * 1024))
    page.goto("/pages/voices")
    throttle_uploads(page, 1024 * 1024)  # the upload is still running when the user clicks cancel
    page.set_input_files("#reference-file", str(big))
    page.fill("#audio-id", "big_voice")

    page.click("#clone")
    page.wait_for_selector("#cancel-clone-upload:not([hidden])")
    page.click("#cancel-clone-upload")
    page.wait_for_selector("#clone-message:text('上传已取消')")

    assert page.is_hidden("#cancel-clone-upload")
    assert progress_value(page, "#clone-progress") < 100
    assert not Speaker.objects.exists()

    throttle_uploads(page, -1)
    page.set_input_files("#reference-file", str(tone_wav(tmp_path / "ref.wav", seconds=4)))
    page.click("#clone")
    page.wait_for_selector("#clone-message.ok")

    assert Speaker.objects.filter(pk="big_voice").exists()
    assert page.is_hidden("#cancel-clone-upload")


def test_it_checks_a_reference_and_a_text_against_the_servers_limits(page, tmp_path, settings):
    settings.MAX_UPLOAD_BYTES = 4096
    settings.MAX_TEXT_CHARS = 300
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio")
    page.goto("/pages/voices")
    assert page.get_attribute("#speak-text", "maxlength") == "300"
    page.fill("#audio-id", "checked")
    posts = posts_to(page, "/audio_clone")

    page.set_input_files("#reference-file", str(notes))
    page.click("#clone")
    page.wait_for_selector("#clone-message.error:text('不支持的文件类型')")
    page.set_input_files("#reference-file", str(tone_wav(tmp_path / "ref.wav", seconds=4)))
    page.click("#clone")
    page.wait_for_selector("#clone-message.error:text('文件太大')")

    assert posts == []
    assert page.is_enabled("#clone")

    # A media file the browser gives a type of another family still goes (the server checks content).
    page.set_input_files("#reference-file", {"name": "clip.ogg", "mimeType": "application/ogg", "buffer": b"OggS"})
    page.click("#clone")
    wait_until(page, lambda: posts)


def test_it_clones_the_file_chosen_after_a_recording(page, tmp_path):
    from avatar_site.lib.media import probe

    reference = tone_wav(tmp_path / "ref.wav", seconds=6)
    page.goto("/pages/voices")
    record(page, 1000)

    page.set_input_files("#reference-file", str(reference))
    page.fill("#audio-id", "file_voice")
    page.click("#clone")
    page.wait_for_selector("#clone-message.ok")

    assert page.eval_on_selector("input[name=source]:checked", "radio => radio.value") == "file"
    assert probe(Speaker.objects.get(pk="file_voice").reference_path).duration > 5


def test_it_refuses_to_clone_while_recording(page):
    page.goto("/pages/voices")
    record(page, 1000)
    page.click("#record")  # a new take
    page.wait_for_selector("#record:text('停止录音')")
    page.fill("#audio-id", "old_take")
    posts = posts_to(page, "/audio_clone")

    page.click("#clone")
    page.wait_for_selector("#clone-message.error")

    assert page.inner_text("#clone-message") == "请先停止录音"
    assert page.inner_text("#record") == "停止录音"  # still recording
    assert page.is_hidden("#recording")  # the old take is gone
    assert posts == []


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


def test_it_shows_the_log_of_a_failed_turn(page, api, media_root, monkeypatch):
    from tests.doubles import StillTalkingHead

    clone_voice(api, media_root, "speaker_1")
    train_avatar(api, media_root)
    failing_job(monkeypatch, StillTalkingHead, "render")
    page.goto("/pages/chat")
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")

    page.locator("#talk").hover()
    page.mouse.down()
    page.wait_for_timeout(1200)
    page.mouse.up()
    page.wait_for_selector("#chat-message.error")

    assert page.inner_text("#chat-message") == "The engine ran out of GPU memory."
    # What the user said stays readable although no turn came of it.
    assert page.inner_text("#chat-progress pre.log") == "听到：hello there\nloading the model\nCUDA out of memory"
    assert page.locator("#turns .turn").count() == 0


def test_it_keeps_the_conversation_while_a_turn_is_on_its_way(page, api, media_root):
    clone_voice(api, media_root, "speaker_1")
    train_avatar(api, media_root)
    page.goto("/pages/chat")
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
    held = []
    page.route("**/chat_system", lambda route: held.append(route))  # the turn waits until the test lets it through

    page.locator("#talk").hover()
    page.mouse.down()
    page.wait_for_timeout(1200)
    page.mouse.up()
    page.wait_for_selector("#new-conversation:disabled")
    wait_until(page, lambda: held)
    held[0].continue_()
    page.wait_for_selector("#turns .turn video")

    conversation = Task.objects.get(kind=HistoryType.CHAT_SYSTEM).parameters["conversation_id"]
    assert page.inner_text("#conversation-id") == conversation
    page.click("#new-conversation")
    assert page.inner_text("#conversation-id") == "—"
    assert page.locator("#turns .turn").count() == 0


def test_it_keeps_the_conversation_and_follows_a_turn_on_its_way_after_a_reload(page, api, media_root, monkeypatch):
    from monitoring.runner import run_task

    clone_voice(api, media_root, "speaker_1")
    train_avatar(api, media_root)
    page.goto("/pages/chat")
    page.wait_for_selector("#voice option[value='speaker_1']", state="attached")
    talk = page.locator("#talk")
    talk.hover()
    page.mouse.down()
    page.wait_for_timeout(1200)
    page.mouse.up()
    wait_playable(page, "#turns .turn:nth-child(1) video")
    conversation = page.inner_text("#conversation-id")
    queue_jobs_without_worker(monkeypatch)
    talk.hover()
    page.mouse.down()
    page.wait_for_timeout(1200)
    page.mouse.up()
    page.wait_for_selector("#chat-progress [data-text]:text('排队中')")  # the page follows it

    page.reload()
    page.wait_for_selector("#chat-message:text('继续跟踪未完成的对话')")

    assert page.inner_text("#conversation-id") == conversation
    assert page.locator("#turns .turn").count() == 1  # the first turn, shown again
    assert page.is_disabled("#talk")
    queued = Task.objects.get(status=Task.Status.QUEUED)
    assert queued.parameters["conversation_id"] == conversation
    run_task(queued.pk)  # a worker takes it up
    wait_playable(page, "#turns .turn:nth-child(2) video")
    assert page.inner_text("#conversation-id") == conversation
    assert page.is_enabled("#talk")


def test_it_fills_in_the_system_status_and_fits_a_phone(page, settings):
    settings.STATUS_POLL_SECONDS = 0.3
    settings.STATUS_CHART_MINUTES = 0.05  # ten readings across the chart, so its line shows at once
    page.goto("/pages/status")

    page.wait_for_function(
        "() => document.querySelector('[data-metric=cpu] [data-value]').textContent.endsWith('%')"
    )
    page.wait_for_timeout(800)

    for metric in ("cpu", "memory", "disk"):
        value = page.inner_text(f"[data-metric={metric}] [data-value]")
        assert 0 <= float(value.rstrip("%")) <= 100
    assert "GiB" in page.inner_text("[data-metric=memory] [data-detail]")
    # The chart has drawn its line (the memory card's green; the grid and axis labels are grey).
    drawn = page.eval_on_selector("[data-metric=memory] canvas", """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i + 1] - d[i] > 80 && d[i + 3] > 200) return true;
        return false;
    }""")
    assert drawn
    screenshot(page, "status")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/pages/chat")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.is_hidden(".mainnav")
    page.click(".nav-toggle-label")
    assert page.is_visible(".mainnav")
    screenshot(page, "chat-phone")


def test_it_shows_gpu_figures_the_gpu_does_not_report_as_unreported(page, settings, monkeypatch):
    import monitoring.system

    settings.STATUS_POLL_SECONDS = 0.3
    mig = {"index": 0, "name": "H200 MIG 1g.18gb", "load": 0.0, "memory_used": 2 * 1024**3,
           "memory_total": 18 * 1024**3, "temperature": 0, "unreported": ["load", "temperature"]}
    full = {"index": 1, "name": "H200", "load": 42.5, "memory_used": 1024**3, "memory_total": 141 * 1024**3,
            "temperature": 35}
    monkeypatch.setattr(monitoring.system, "gpu_stats", lambda: [mig, full])
    colour = """(c, [r, g, b]) => {
        if (!c) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0 && Math.abs(d[i] - r) < 8 && Math.abs(d[i + 1] - g) < 8 && Math.abs(d[i + 2] - b) < 8) return true;
        }
        return false;
    }"""
    purple = [0x8E, 0x44, 0xAD]

    page.goto("/pages/status")
    # Two readings or more: the second card has drawn its line.
    page.wait_for_function(f"() => ({colour})(document.querySelector('#gpus .card:nth-child(2) canvas'), {purple})")

    first, second = page.locator("#gpus .card").all()
    assert first.locator("[data-value]").inner_text() == "未报告"
    assert first.locator("[data-detail]").inner_text() == "显存 2.0 GiB / 18.0 GiB · 温度 未报告"
    assert not first.locator("canvas").evaluate(f"c => ({colour})(c, {purple})")
    assert second.locator("[data-value]").inner_text() == "42.5%"
    assert second.locator("[data-detail]").inner_text() == "显存 1.0 GiB / 141.0 GiB · 35 °C"


def test_it_moves_to_the_next_history_page_only_once_it_loaded(page, user):
    for _ in range(25):
        HistoryRecord.objects.create(type=HistoryType.VIDEO_GENERATION, owner=user,
                                     status=HistoryRecord.Status.COMPLETED, parameters={}, result={})
    page.goto("/pages/history")
    page.select_option("#page-size", "10")
    page.wait_for_selector("#page-label:text('1 / 3')")
    page.route("**/api/history/**", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"status": "error", "message": "Internal error."}'))

    page.click("#next")
    page.wait_for_selector("#history-message.error")

    assert page.inner_text("#page-label").startswith("1 / 3")
    assert page.is_disabled("#previous")
    page.unroute("**/api/history/**")
    page.click("#next")
    page.wait_for_selector("#page-label:text('2 / 3')")
    assert page.inner_text("#history-message") == ""


def test_a_failed_task_runs_again_from_the_history_page(page, user, no_worker):
    from monitoring import jobs

    failed = jobs.submit(HistoryType.VIDEO_GENERATION, "tests.jobs.count_job", {"steps": 1}, owner=user,
                         queue="GPU0")
    failed.finish(Task.Status.FAILED, "The engine ran out of GPU memory.")
    page.goto("/pages/history")

    page.click("#history button.retry")
    page.wait_for_selector("#history-message.ok")

    again = Task.objects.exclude(pk=failed.pk).get()
    assert page.inner_text("#history-message") == f"已重新排队: {again.pk}"
    assert again.parameters["retry_of"] == failed.pk and again.status == Task.Status.QUEUED
    assert page.locator("#history tbody tr").count() == 2
    assert page.locator("#history tbody tr:first-child .badge.queued").count() == 1


def test_it_pages_history_by_type_and_shows_failures(page, user):
    for n in range(12):
        HistoryRecord.objects.create(
            type=HistoryType.VIDEO_GENERATION, owner=user, status=HistoryRecord.Status.COMPLETED, duration=1.5,
            parameters={"model_name": "builtin", "model_param": f"avatar_{n}", "custom_params": {"lr": 0.01}},
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
    page.click("#history tbody tr:first-child details summary")
    fields = page.locator("#history tbody tr:first-child details > dl.fields")
    assert fields.locator(":scope > dt").all_inner_texts() == ["model_name", "model_param", "custom_params"]
    assert fields.locator("dd dl dt").inner_text() == "lr" and fields.locator("dd dl dd").inner_text() == "0.01"
    screenshot(page, "history")

    page.click("#tabs [data-type=audio_clone]")
    page.wait_for_selector("#page-label:text('1 / 1')")

    assert "less than 3 s" in page.inner_text("#history .message.error")
    assert page.locator("#history tbody tr").count() == 1
    filter_names = page.locator("#status-filter option").all_inner_texts()
    assert filter_names == ["全部", "排队中", "运行中", "已完成", "失败", "已取消"]  # as the table names them


def test_it_asks_to_sign_in_again_once_the_session_has_ended(page, live_server):
    from django.contrib.sessions.models import Session

    page.goto("/pages/history")
    page.wait_for_selector("#page-label:text('1 / 1')")
    Session.objects.all().delete()  # the session expired

    page.click("#tabs [data-type=audio_clone]")
    page.wait_for_selector("#signed-out")

    assert page.inner_text("#history-message") == "登录已失效，请重新登录。"
    assert "登录已失效" in page.inner_text("#signed-out")
    assert page.get_attribute("#signed-out a", "href") == "/accounts/login/?next=%2Fpages%2Fhistory"
    with page.expect_response(lambda r: "/api/history/chat_system" in r.url and r.status == 401):
        page.click("#tabs [data-type=chat_system]")
    page.wait_for_timeout(200)
    assert page.locator("#signed-out").count() == 1  # one notice, however many requests were refused
    screenshot(page, "signed-out")

    page.click("#signed-out a")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-alice-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/pages/history")
    page.wait_for_selector("#page-label:text('1 / 1')")
    assert page.locator("#signed-out").count() == 0


def test_it_switches_to_english(page):
    page.goto("/pages/status")

    page.select_option("select[name=language]", "en")
    page.wait_for_load_state()
    page.wait_for_selector("html[lang=en]")

    assert "Video generation" in page.inner_text(".mainnav")
    assert page.url.endswith("/pages/status")
