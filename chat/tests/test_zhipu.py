import pytest

from avatar_site.lib.engines import EngineUnavailable
from chat.engines import get_language_model
from monitoring.errors import JobFailed

MESSAGES = [
    {"role": "system", "content": "你是一个友好的数字人助手。"},
    {"role": "user", "content": "What is your name?"},
    {"role": "assistant", "content": "I am the avatar."},
    {"role": "user", "content": "How are you today?"},
]


def test_it_sends_the_conversation_through_the_sdk_and_returns_the_reply(zhipu):
    zhipu.script.reply = "I am fine, thank you."

    answer = get_language_model("glm-4-plus").reply(MESSAGES)

    assert answer == "I am fine, thank you."
    (exchange,) = zhipu.received
    assert exchange.path == "/api/paas/v4/chat/completions"
    assert exchange.headers["Authorization"] == "Bearer test-key.secret"
    assert exchange.body["model"] == "glm-4-plus"
    assert exchange.body["messages"] == MESSAGES


def test_it_is_unavailable_without_an_api_key(zhipu, settings):
    settings.ZHIPUAI_API_KEY = ""

    with pytest.raises(EngineUnavailable, match="ZHIPUAI_API_KEY") as caught:
        get_language_model("glm-4-plus")

    assert caught.value.status_code == 503
    assert zhipu.received == []


def test_it_explains_a_refused_key(zhipu):
    zhipu.script.status = 401
    zhipu.script.error_body = {"error": {"code": "1000", "message": "身份验证失败。"}}

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert caught.value.http_status == 503
    assert "refused the API key" in str(caught.value)
    assert "ZHIPUAI_API_KEY" in str(caught.value)
    assert "身份验证失败" in str(caught.value)


def test_it_explains_a_rate_limit(zhipu):
    zhipu.script.status = 429
    zhipu.script.error_body = {"error": {"code": "1302", "message": "您当前使用该API的并发数过高"}}

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert caught.value.http_status == 503
    assert "rate-limited" in str(caught.value)
    assert len(zhipu.received) == 1  # no retries with ZHIPUAI_MAX_RETRIES=0


def test_it_reports_a_server_failure_as_a_bad_gateway(zhipu):
    zhipu.script.status = 500
    zhipu.script.error_body = {"error": {"code": "500", "message": "Internal Error"}}

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert caught.value.http_status == 502
    assert "HTTP 500" in str(caught.value)


def test_it_gives_up_on_a_slow_answer(zhipu, settings):
    settings.ZHIPUAI_TIMEOUT = 0.3
    zhipu.script.delay = 1.5

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert caught.value.http_status == 504
    assert "did not answer within 0.3 s" in str(caught.value)


def test_it_reports_an_unreachable_service(zhipu, settings):
    zhipu.stop()

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert caught.value.http_status == 503
    assert "cannot be reached" in str(caught.value)
    zhipu.start()  # the fixture stops it again


def test_it_gives_up_on_an_answer_that_trickles_in(zhipu, settings):
    """The SDK's timeout bounds each read: a byte every 30 ms would take ~10 s without a deadline."""
    import time

    settings.ZHIPUAI_TIMEOUT = 1.0
    zhipu.script.trickle = 0.03
    started = time.monotonic()

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert time.monotonic() - started < 3
    assert caught.value.http_status == 504


@pytest.mark.parametrize("body", [b'{"choices": [ {"message": ', b"", b'{"choices": {"0": {"message": {}}}}'],
                         ids=["cut-json", "empty", "choices-not-a-list"])
def test_a_broken_answer_is_a_bad_gateway(zhipu, body):
    zhipu.script.raw = body

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert caught.value.http_status == 502


def test_it_goes_through_the_proxy_the_environment_names(zhipu, settings, monkeypatch):
    """Sites that reach open.bigmodel.cn through a proxy: the SDK's client honoured HTTPS_PROXY, ours must too."""
    monkeypatch.setenv("HTTP_PROXY", zhipu.base_url.split("/api/")[0])
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    settings.ZHIPUAI_BASE_URL = "http://glm.invalid/api/paas/v4"  # reachable only through the proxy

    assert get_language_model("glm-4-plus").reply(MESSAGES)
    assert zhipu.received[0].path == "http://glm.invalid/api/paas/v4/chat/completions"


def test_an_answer_over_the_size_limit_is_a_bad_gateway(zhipu, monkeypatch):
    from chat.engines import zhipu as engine

    monkeypatch.setattr(engine, "MAX_ANSWER_BYTES", 100)

    with pytest.raises(JobFailed) as caught:
        get_language_model("glm-4-plus").reply(MESSAGES)

    assert caught.value.http_status == 502
