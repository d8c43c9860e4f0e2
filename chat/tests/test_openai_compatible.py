import pytest

from avatar_site.lib.engines import EngineUnavailable
from chat.engines import get_language_model
from monitoring.errors import JobFailed

MESSAGES = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "Hello?"},
]


@pytest.fixture
def server(settings, chat_server):
    settings.LLM_OPENAI_BASE_URL = chat_server.base_url
    settings.LLM_OPENAI_MODEL = "qwen2.5-1.5b-instruct"
    settings.LLM_OPENAI_API_KEY = "local-key"
    settings.LLM_OPENAI_TIMEOUT = 5.0
    settings.LLM_ENGINES = {"openai-compatible": "chat.engines.openai_compatible.OpenAICompatible"}
    return chat_server


def test_it_posts_the_messages_and_returns_the_reply(server):
    server.script.reply = "Hi! How can I help?"

    answer = get_language_model("openai-compatible").reply(MESSAGES)

    assert answer == "Hi! How can I help?"
    (exchange,) = server.received
    assert exchange.path == "/api/paas/v4/chat/completions"
    assert exchange.headers["Authorization"] == "Bearer local-key"
    assert exchange.body == {"model": "qwen2.5-1.5b-instruct", "messages": MESSAGES, "stream": False}


def test_it_sends_no_authorization_without_a_key(server, settings):
    settings.LLM_OPENAI_API_KEY = ""

    get_language_model("openai-compatible").reply(MESSAGES)

    assert "Authorization" not in server.received[0].headers


def test_it_is_unavailable_when_not_configured(server, settings):
    settings.LLM_OPENAI_BASE_URL = ""

    with pytest.raises(EngineUnavailable, match="LLM_OPENAI_BASE_URL"):
        get_language_model("openai-compatible")


def test_it_explains_a_refused_key(server):
    server.script.status = 401
    server.script.error_body = {"error": {"message": "Invalid API Key", "type": "authentication_error"}}

    with pytest.raises(JobFailed) as caught:
        get_language_model("openai-compatible").reply(MESSAGES)

    assert caught.value.http_status == 503
    assert "LLM_OPENAI_API_KEY" in str(caught.value)
    assert "Invalid API Key" in str(caught.value)


def test_it_reports_a_server_failure_as_a_bad_gateway(server):
    server.script.status = 500
    server.script.error_body = {"error": {"message": "model crashed"}}

    with pytest.raises(JobFailed) as caught:
        get_language_model("openai-compatible").reply(MESSAGES)

    assert caught.value.http_status == 502
    assert "model crashed" in str(caught.value)


def test_it_gives_up_on_a_slow_answer(server, settings):
    settings.LLM_OPENAI_TIMEOUT = 0.3
    server.script.delay = 1.5

    with pytest.raises(JobFailed) as caught:
        get_language_model("openai-compatible").reply(MESSAGES)

    assert caught.value.http_status == 504
    assert "did not answer within 0.3 s" in str(caught.value)


def test_it_gives_up_on_an_answer_that_trickles_in(server, settings):
    import time

    settings.LLM_OPENAI_TIMEOUT = 0.5
    server.script.trickle = 0.05  # each read well within the limit, the whole answer ~10 s

    started = time.monotonic()
    with pytest.raises(JobFailed) as caught:
        get_language_model("openai-compatible").reply(MESSAGES)

    assert caught.value.http_status == 504
    assert time.monotonic() - started < 3


def test_it_reports_an_answer_without_a_reply(server):
    server.script.reply = ""

    with pytest.raises(JobFailed) as caught:
        get_language_model("openai-compatible").reply(MESSAGES)

    assert caught.value.http_status == 502
    assert "without a reply" in str(caught.value)
