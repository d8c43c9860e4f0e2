"""Signing in and out, languages, and clients of the API in a browser (another origin, the spec's sample client)."""

from __future__ import annotations

import pytest

from monitoring.models import HistoryType, Task
from tests.browser import screenshot
from tests.media import test_video

# The fixtures (browser, page, no_worker, chinese_by_default) come from tests/browser.py (conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chinese_by_default")]


def test_it_asks_for_login_first(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()

    page.goto("/pages/status")

    assert "/accounts/login/" in page.url
    screenshot(page, "login")
    context.close()


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
    # Each language is named in itself, so a reader who does not know the page's finds their own.
    assert page.locator("select[name=language] option").all_inner_texts() == ["简体中文", "English"]

    page.select_option("select[name=language]", "en")
    page.wait_for_load_state()
    page.wait_for_selector("html[lang=en]")

    assert "Video generation" in page.inner_text(".mainnav")
    assert page.url.endswith("/pages/status")
    assert page.locator("select[name=language] option").all_inner_texts() == ["简体中文", "English"]
