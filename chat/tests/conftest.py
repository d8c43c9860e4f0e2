from __future__ import annotations

import pytest

from chat.tests.standins.chat_server import ChatServer


@pytest.fixture
def chat_server():
    server = ChatServer().start()
    yield server
    server.stop()


@pytest.fixture
def zhipu(settings, chat_server):
    """The glm-4-plus engine pointed at the fake server, without the SDK's retries."""
    settings.ZHIPUAI_API_KEY = "test-key.secret"
    settings.ZHIPUAI_BASE_URL = chat_server.base_url
    settings.ZHIPUAI_MAX_RETRIES = 0
    settings.ZHIPUAI_TIMEOUT = 5.0
    settings.LLM_ENGINES = {"glm-4-plus": "chat.engines.zhipu.Zhipu"}
    return chat_server
