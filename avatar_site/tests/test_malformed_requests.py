"""Request bodies and headers that are well-formed HTTP but not something the site can store or parse."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import HistoryRecord, Task
from tests.flows import train_avatar
from training.models import Avatar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("double_engines")]


def post_json(api, path: str, body: str):
    return api.post(path, body.encode(), content_type="application/json")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\u0000"])
@pytest.mark.parametrize("field", ["audio_id", "original_audio_path"])
def test_json_strings_the_database_cannot_hold_are_refused(api, field, escape):
    fields = {"audio_id": "speaker_x", "original_audio_path": "reference.wav"}
    body = json.dumps(fields).replace(fields[field], fields[field] + escape)

    response = post_json(api, "/audio_clone", body)
    listing = api.get("/api/history/audio_clone")

    assert response.status_code == 400
    assert "not allowed" in response.json()["message"]
    assert listing.status_code == 200  # the failed request's history row still renders
    assert listing.json()["history"][0]["status"] == HistoryRecord.Status.FAILED


def test_json_nested_beyond_the_decoder_is_refused(api):
    response = post_json(api, "/audio_clone", "[" * 100_000 + "]" * 100_000)

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_nul_in_a_form_path_is_refused_before_any_lookup(api):
    response = api.post("/video_generation", {"model_name": "builtin", "model_param": "user_1\x00",
                                              "ref_audio_id": "s", "gpu_choice": "GPU0", "target_text": "hi"})
    listing = api.get("/api/history/video_generation")

    assert response.status_code == 400
    assert "NUL" in response.json()["message"]
    assert listing.status_code == 200
    assert "\x00" not in json.dumps(listing.json())


def test_a_json_body_over_the_memory_limit_is_refused_before_parsing(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"model_name": "builtin", "model_param": "x", "ref_audio_id": "s", "gpu_choice": "GPU0",
                       "target_text": "a" * 20_000})

    response = post_json(api, "/video_generation", body)
    small = post_json(api, "/video_generation", body.replace("a" * 20_000, "a"))

    assert response.status_code == 413
    assert "larger than 9.8\xa0KB" in response.json()["message"]
    assert small.status_code != 413


def test_a_body_over_the_memory_limit_is_refused_in_the_clients_language(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = api.post("/video_generation", {"model_name": "builtin", "target_text": "a" * 20_000},
                        HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" not in response.json()["message"]
    assert "文件" in response.json()["message"]


def test_too_many_form_fields_is_a_bad_request(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    fields = {f"extra_{index}": "x" for index in range(60)}

    response = api.post("/video_generation", {"model_name": "builtin", "model_param": "x", **fields})

    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["message"]


def test_too_many_files_is_a_bad_request(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    files = {f"file_{index}": SimpleUploadedFile(f"{index}.wav", b"RIFF") for index in range(6)}

    response = api.post("/save_audio", files, format="multipart")

    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FILES" in response.json()["message"]


@pytest.mark.parametrize("custom_params", [
    "lr=nan", "lr=inf", '{"lr": 1e999}', '{"batch_size": 1e999}',
    '{"batch_size": 32.9}', '{"lr": true}', '{"batch_size": false}',  # no quiet truncation, no booleans as numbers
])
def test_custom_params_that_are_no_finite_number_are_refused(api, media_root, custom_params):
    response = train_avatar(api, media_root, model_choice="SyncTalk", custom_params=custom_params)

    assert response.status_code == 400, response.content
    assert "is not a valid" in response.json()["message"]
    assert not Avatar.objects.exists() and not Task.objects.exists()


def test_a_range_header_with_an_absurd_number_is_ignored(api, media_root, user):
    user.is_staff = True
    user.save()
    (media_root / "videos").mkdir()
    (media_root / "videos" / "clip.mp4").write_bytes(b"0123456789")

    response = api.get("/video/clip.mp4", HTTP_RANGE="bytes=" + "9" * 5000 + "-")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"0123456789"


@pytest.mark.parametrize(("body", "expected"), [("null", "没有提供数据。"), (None, "不允许包含空字符（NUL）。")])
def test_upstream_messages_come_in_the_sites_language(api, body, expected):
    """DRF's zh-hans catalog lacks "No data provided"; Django's calls a NUL "an empty string"."""
    if body is None:
        response = api.post("/video_generation", {"model_name": "builtin", "model_param": "x", "ref_audio_id": "s",
                                                  "gpu_choice": "GPU0", "target_text": "a\x00b"},
                            HTTP_ACCEPT_LANGUAGE="zh-hans")
    else:
        response = api.post("/video_generation", body.encode(), content_type="application/json",
                            HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 400
    assert response.json()["message"].endswith(expected)
