"""The voices page: recording, cloning and speaking."""

from __future__ import annotations

import os

import pytest

from tests.browser import (
    failing_job,
    posts_to,
    progress_value,
    record,
    screenshot,
    throttle_uploads,
    wait_playable,
    wait_until,
)
from tests.flows import clone_voice, train_avatar
from tests.media import tone_wav
from training.models import Avatar
from voices.models import Speaker

# The fixtures (browser, page, no_worker, chinese_by_default) come from tests/browser.py (conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chinese_by_default")]


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
    page.fill("#gen-audio-id", "问候")
    page.click("#speak")
    duration = wait_playable(page, "#speech")

    assert duration == pytest.approx(0.08 * len("今天天气很好"), abs=0.1)  # ToneVoice's length per character
    assert "音频生成成功" in page.inner_text("#speak-message")
    assert page.get_attribute("#speech", "src").split("?")[0].endswith("_%E9%97%AE%E5%80%99.wav") or \
        page.get_attribute("#speech", "src").split("?")[0].endswith("_问候.wav")
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
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))

    page.goto("/pages/voices")
    page.click("#voices tr:has(td:text-is('old_voice')) button")
    page.wait_for_selector("#voices-message:text('声音已删除')")
    page.wait_for_selector("#voices td:text-is('old_voice')", state="detached")
    page.goto("/pages/training")
    page.click(f"#avatars tr:has(td:text-is('{avatar_id}')) button")
    page.wait_for_selector("#avatars-message:text('模型已删除')")
    page.wait_for_selector(f"#avatars td:text-is('{avatar_id}')", state="detached")

    assert not Speaker.objects.exists() and not Avatar.objects.exists()
    assert asked == ["删除 “old_voice”？删除后无法恢复。", f"删除 “reference ({avatar_id})”？删除后无法恢复。"]


def test_the_english_pages_show_the_servers_chinese_answers_in_english(page, api, media_root):
    clone_voice(api, media_root, "old_voice")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/pages/voices")
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("html[lang=en]")

    page.click("#voices tr:has(td:text-is('old_voice')) button")

    page.wait_for_selector("#voices-message:text-is('Voice deleted')")  # the API's own answer is "声音已删除"


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
