from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings
from django_q.conf import Conf
from rest_framework.test import APIClient

# The page tests' browser, signed-in page and helpers (<app>/tests/test_pages.py).
pytest_plugins = ["tests.browser"]

DOUBLE_ENGINES = {
    "TALKING_HEAD_ENGINES": {
        "builtin": "tests.doubles.StillTalkingHead",
        "SyncTalk": "tests.doubles.StillTalkingHead",
        "ER-NeRF": "tests.doubles.StillTalkingHead",
    },
    "VOICE_ENGINES": {"builtin": "tests.doubles.ToneVoice"},
    "VOICE_ENGINE": "builtin",
    "ASR_ENGINES": {"text": "tests.doubles.TextFileRecognizer"},
    "ASR_ENGINE": "text",
    "LLM_ENGINES": {"glm-4-plus": "tests.doubles.EchoModel"},
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test gets its own media folder, and an operator-shared input folder beside it
    (``input_root``), the first input root, so relative client paths resolve there."""
    root = tmp_path / "media"
    root.mkdir()
    (tmp_path / "inputs").mkdir()
    settings.MEDIA_ROOT = root
    settings.INPUT_ROOTS = [tmp_path / "inputs", root]
    return root


@pytest.fixture
def input_root(media_root):
    return media_root.parent / "inputs"


@pytest.fixture(scope="session", autouse=True)
def english_by_default():
    """Requests without a language preference, the jobs they queue and engines called directly
    write English, the messages' source language, which tests compare. For the whole session:
    a test's own LANGUAGE_CODE change resets the active language to this default when undone.
    The Chinese that the site speaks by default is tested in avatar_site/tests/test_languages.py
    and the page tests."""
    with override_settings(LANGUAGE_CODE="en"):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Cached history counts and remembered users must not outlive the rows of the test that made them."""
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def short_sync_wait(settings):
    """Requests that wait for a job that will not run (no worker) answer 202 quickly."""
    settings.SYNC_WAIT_SECONDS = 2


@pytest.fixture(autouse=True)
def inline_queue(monkeypatch):
    """Jobs run inside async_task unless a test starts real workers (see monitoring/tests/test_qcluster.py)."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def double_engines(settings):
    for name, value in DOUBLE_ENGINES.items():
        setattr(settings, name, value)
    settings.GPU_QUEUES = ["GPU0", "GPU1"]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", password="pw-bob-123")


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous_api():
    return APIClient()
