"""Broken surroundings give a clear error and the platform keeps serving."""

from __future__ import annotations

import pytest

from tests.media import tone_wav

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


def test_an_unusable_media_folder_is_a_clear_503(api, settings, tmp_path):
    recording = tone_wav(tmp_path / "input.wav")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker

    with open(recording, "rb") as handle:
        response = api.post("/save_audio", {"audio": handle})

    assert response.status_code == 503
    assert "cannot be stored" in response.json()["message"]
    assert api.get("/api/status").status_code == 200


def test_a_missing_ffprobe_is_a_clear_503(api, settings, tmp_path):
    recording = tone_wav(tmp_path / "input.wav")
    settings.FFPROBE_BINARY = str(tmp_path / "no-ffprobe-here")

    with open(recording, "rb") as handle:
        response = api.post("/save_audio", {"audio": handle})

    assert response.status_code == 503
    assert "not installed" in response.json()["message"]
    assert api.get("/api/status").status_code == 200


def test_a_job_that_cannot_write_fails_with_a_system_error(api, media_root, settings):
    from monitoring import jobs
    from monitoring.models import HistoryType, Task

    task = jobs.submit(HistoryType.VIDEO_GENERATION, "tests.jobs.writing_job",
                       {"target": str(media_root / "missing-folder" / "x" / "out.bin")}, queue="GPU0")

    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert task.message.startswith("System error: No such file or directory")
    assert task.result["http_status"] == 503
