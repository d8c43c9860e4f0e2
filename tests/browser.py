"""What the page tests (``<app>/tests/test_pages.py``, marked ``browser``) share: Debian's Chromium
driven through Playwright against the live server, a signed-in page, and helpers.

Jobs run inline (conftest's sync queue) with the engine doubles, so every video and voice the
pages play is real media made by ffmpeg. Screenshots of each page land in test-artifacts/. The
root conftest.py loads this module as a plugin, so its fixtures reach every test module; page
test modules use ``chinese_by_default`` (the pages as their users see them).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"


TIMEOUT_MS = 20_000



@pytest.fixture
def chinese_by_default(settings):
    """The pages as their users see them: in Chinese, unless the browser asks for English."""
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls are still
    # synchronous. Only while a browser runs: elsewhere Django's check stays on.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
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
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


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
