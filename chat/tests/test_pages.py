"""The voice chat page."""

from __future__ import annotations

import pytest

from monitoring.models import HistoryType, Task
from tests.browser import failing_job, queue_jobs_without_worker, screenshot, wait_playable, wait_until
from tests.flows import clone_voice, train_avatar

# The fixtures (browser, page, no_worker, chinese_by_default) come from tests/browser.py (conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chinese_by_default")]


def test_the_chat_page_says_what_to_configure_when_no_language_model_is_usable(page, settings):
    settings.LLM_ENGINES = {"glm-4-plus": "chat.engines.zhipu.Zhipu"}
    settings.ZHIPUAI_API_KEY = ""

    page.goto("/pages/chat")

    page.wait_for_selector("#chat-message:has-text('ZHIPUAI_API_KEY')")


def test_the_chat_page_says_which_language_to_speak(page, settings):
    settings.ASR_ENGINES = {"pocketsphinx": "chat.engines.pocketsphinx.PocketSphinx",
                            "whisper": "chat.engines.whisper.Whisper"}
    settings.ASR_ENGINE = "pocketsphinx"
    page.goto("/pages/chat")
    english_only = page.inner_text("#spoken-language")

    settings.ASR_ENGINE, settings.WHISPER_LANGUAGE = "whisper", "zh"
    page.goto("/pages/chat")
    mandarin = page.inner_text("#spoken-language")

    settings.WHISPER_LANGUAGE = ""
    page.goto("/pages/chat")
    any_language = page.inner_text("#spoken-language")

    assert english_only.startswith("语音识别只听得懂英语。") and "Whisper" in english_only
    assert mandarin == "语音识别只听得懂中文。"
    assert any_language == "语音识别会自动判断您说的语言。"


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
