import pytest
from rest_framework.test import APIClient

from tests.media import tone_wav

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


@pytest.fixture
def saved(api, tmp_path):
    with open(tone_wav(tmp_path / "input.wav", seconds=4), "rb") as handle:
        response = api.post("/save_audio", {"audio": handle})
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_saved_recording_plays_for_its_owner_only(api, other_user, saved):
    others = APIClient()
    others.force_authenticate(other_user)

    own = api.get(saved["audio_url"])

    assert saved["message"] == "音频保存成功"
    assert own.status_code == 200 and own["Content-Type"].startswith("audio/")
    assert b"".join(own.streaming_content)[:4] == b"RIFF"
    assert others.get(saved["audio_url"]).status_code == 404


def test_a_saved_recording_can_be_cloned_by_its_owner_only(api, other_user, saved):
    others = APIClient()
    others.force_authenticate(other_user)

    stolen = others.post("/audio_clone", {"original_audio_path": saved["audio_path"], "audio_id": "theirs"})
    cloned = api.post("/audio_clone", {"original_audio_path": saved["audio_path"], "audio_id": "mine"})

    assert stolen.status_code == 404
    assert cloned.status_code == 200, cloned.json()
