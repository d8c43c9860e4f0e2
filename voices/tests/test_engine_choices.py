import pytest
import requests

from avatar_site.lib.engines import EngineUnavailable
from voices.engines import get_voice_engine, voice_engine_choices


def test_the_pages_list_a_configured_voice_server_without_contacting_it(settings, monkeypatch):
    """A page view must not wait on a server that is down; the request itself checks it."""
    settings.VOICE_ENGINES = {"gpt-sovits": "voices.engines.gpt_sovits.GPTSoVITS"}
    settings.GPT_SOVITS_URL = "http://127.0.0.1:9"
    contacted = []

    def refuse(url, **kwargs):
        contacted.append(url)
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(requests, "get", refuse)

    [choice] = voice_engine_choices()

    assert (choice["name"], choice["available"], contacted) == ("gpt-sovits", True, [])
    with pytest.raises(EngineUnavailable, match="cannot be reached"):
        get_voice_engine("gpt-sovits")
    assert contacted == ["http://127.0.0.1:9/"]
