"""The site speaks Chinese unless a client asks for English: its own messages, and those its jobs
write, in the language of the request that queued them, whatever language the worker runs in."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from monitoring import jobs
from monitoring.models import HistoryRecord, HistoryType, Task
from tests.media import silent_wav

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.fixture
def chinese_by_default(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_it_answers_errors_in_chinese_by_default(api, chinese_by_default):
    response = api.get("/api/history/bogus")

    assert response.status_code == 404
    assert response.json() == {
        "status": "error",
        "message": "未知的历史记录类型 'bogus'；可选：video_generation, model_training, audio_clone, chat_system。",
    }


def test_it_answers_in_english_when_the_client_asks_for_it(api, chinese_by_default):
    response = api.get("/api/history/bogus", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.json()["message"].startswith("Unknown history type 'bogus'")


def test_validation_errors_follow_the_language(api, chinese_by_default):
    response = api.post("/audio_clone", {"audio_id": "someone", "gen_audio_id": "g1"})

    assert response.status_code == 400
    assert response.json()["message"] == "generate_text：生成模式下必须填写。"


def test_a_voice_not_ready_is_named_in_the_readers_words_though_the_api_lists_it_in_the_specs(
        api, chinese_by_default, user):
    from voices.models import Speaker

    Speaker.objects.create(id="busy", name="busy", owner=user, status=Speaker.Status.EXTRACTING)
    Speaker.objects.create(id="done", name="done", owner=user, status=Speaker.Status.READY)

    english = api.post("/audio_clone", {"audio_id": "busy", "gen_audio_id": "g1", "generate_text": "hi"},
                       HTTP_ACCEPT_LANGUAGE="en")
    listed = api.get("/api/cloned-audios", HTTP_ACCEPT_LANGUAGE="en")

    assert english.json()["message"] == "audio_id: the voice busy is not ready (being extracted)."
    assert [voice["status"] for voice in listed.json()["audios"]] == ["已提取特征"]


def test_a_job_writes_in_the_language_of_its_request_not_the_workers(user):
    with translation.override("zh-hans"):
        task = jobs.submit(HistoryType.AUDIO_CLONE, "tests.jobs.translated_failure_job", {}, owner=user)

    task.refresh_from_db()
    assert task.language == "zh-hans"
    assert task.status == Task.Status.FAILED
    assert task.message == "要朗读的文本为空。"
    assert HistoryRecord.objects.get(task=task).result["message"] == "要朗读的文本为空。"


def test_a_job_runs_in_its_own_language_inside_an_english_worker(user, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(jobs, "send", lambda task: None)  # queued, not run
    task = jobs.submit(HistoryType.AUDIO_CLONE, "tests.jobs.translated_failure_job", {}, owner=user,
                       language="zh-hans")

    from monitoring.runner import run_task

    with translation.override("en"):  # the worker's own language
        run_task(task.pk)

    task.refresh_from_db()
    assert task.message == "要朗读的文本为空。"


def test_a_retry_keeps_the_language_of_the_original_request(user):
    with translation.override("zh-hans"):
        original = jobs.submit(HistoryType.AUDIO_CLONE, "tests.jobs.translated_failure_job", {}, owner=user)

    with translation.override("en"):  # the staff member retrying it reads English
        retried = jobs.retry(original)

    retried.refresh_from_db()
    assert retried.language == "zh-hans"
    assert retried.message == "要朗读的文本为空。"


def test_cancelling_a_queued_task_answers_in_the_tasks_language(user, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(jobs, "send", lambda task: None)
    task = jobs.submit(HistoryType.AUDIO_CLONE, "tests.jobs.count_job", {}, owner=user, language="zh-hans")

    with translation.override("en"):
        task.request_cancel()

    task.refresh_from_db()
    assert task.message == "任务在开始前已取消。"
    assert HistoryRecord.objects.get(task=task).result["message"] == "任务在开始前已取消。"


@pytest.mark.slow
def test_a_refused_clone_says_why_in_chinese(api, media_root, chinese_by_default):
    reference = silent_wav(media_root.parent / "inputs" / "silence.wav", seconds=5)

    response = api.post("/audio_clone", {"original_audio_path": str(reference), "audio_id": "mute", "engine": "builtin"})

    assert response.status_code == 422, response.json()
    assert response.json()["message"] == "参考录音中没有语音。"


def _catalogue_entries(po: Path = CATALOGUE / "django.po") -> dict[str, str]:
    """msgid → msgstr of the zh_Hans .po (the few forms makemessages writes)."""
    text = po.read_text(encoding="utf-8")
    entries = {}
    for match in re.finditer(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', text, re.MULTILINE):
        msgid, msgstr = (
            "".join(re.findall(r'"(.*)"', part)).encode().decode("unicode_escape").encode("latin-1").decode()
            for part in match.groups()
        )
        entries[msgid] = msgstr
    return entries


def test_every_english_message_has_a_chinese_translation():
    english = {msgid: msgstr for msgid, msgstr in _catalogue_entries().items()
               if msgid and all(ord(char) < 0x2E80 for char in msgid)}  # not the templates' Chinese

    assert len(english) > 200
    assert [msgid for msgid, msgstr in english.items() if not msgstr] == []
    # makemessages guesses a changed message's translation from a similar one and marks it fuzzy:
    # compiled catalogues leave those out, so they are as good as missing until someone checks them.
    assert "#, fuzzy" not in (CATALOGUE / "django.po").read_text(encoding="utf-8")


def test_the_compiled_catalogue_matches_its_source():
    with open(CATALOGUE / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = {msgid for msgid, msgstr in _catalogue_entries().items()
             if msgid and msgstr and compiled.gettext(msgid) != msgstr}

    assert stale == set(), "run: manage.py compilemessages --ignore=.venv"


def test_every_message_in_the_code_is_in_the_catalogues(tmp_path, monkeypatch):
    """A message added without running makemessages is shown untranslated: makemessages runs on a
    copy of the sources and catalogues, which must come out translated (the code's English into
    Chinese; the templates' and scripts' Chinese into English)."""
    import shutil

    from django.core.management import call_command

    base = Path(settings.BASE_DIR)
    skipped = {".venv", "bench", "tests", "test-artifacts", "var", "media", "locale", "node_modules", ".git"}
    for source in [*base.rglob("*.py"), *base.rglob("*.html"), *base.rglob("static/*/*.js")]:
        relative = source.relative_to(base)
        if not skipped & set(relative.parts[:-1]):
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tmp_path / relative)
    shutil.copytree(base / "locale", tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["zh_Hans", "en"], no_location=True, verbosity=0)
    call_command("makemessages", locale=["en"], domain="djangojs", no_location=True, verbosity=0)

    def untranslated(po: str, chinese_msgids: bool) -> list[str]:
        path = tmp_path / "locale" / po
        assert "#, fuzzy" not in path.read_text(encoding="utf-8"), f"{po}: check the fuzzy guesses"
        return [msgid for msgid, msgstr in _catalogue_entries(path).items()
                if msgid and not msgstr and any(ord(char) >= 0x2E80 for char in msgid) == chinese_msgids]

    assert untranslated("zh_Hans/LC_MESSAGES/django.po", chinese_msgids=False) == [], (
        "run makemessages (README, Language) and translate what is new")
    assert untranslated("en/LC_MESSAGES/django.po", chinese_msgids=True) == []
    assert untranslated("en/LC_MESSAGES/djangojs.po", chinese_msgids=True) == []
