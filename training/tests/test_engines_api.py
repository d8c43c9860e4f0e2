"""The GPU engines through the API: availability, refusals, and a whole training run on stand-ins."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from monitoring.models import Task
from tests.flows import train_avatar
from training.models import Avatar

pytestmark = pytest.mark.django_db

STANDINS = Path(__file__).parent / "standins"
REAL_ENGINES = {
    "SyncTalk": "training.engines.synctalk.SyncTalk",
    "ER-NeRF": "training.engines.ernerf.ERNeRF",
}


@pytest.fixture
def real_engines(settings, tmp_path):
    settings.TALKING_HEAD_ENGINES = REAL_ENGINES
    settings.GPU_QUEUES = ["GPU0", "GPU1"]
    home = tmp_path / "SyncTalk"
    shutil.copytree(STANDINS / "synctalk", home)
    shutil.copy(STANDINS / "standin.py", home)
    settings.SYNCTALK_HOME = str(home)
    settings.SYNCTALK_PYTHON = sys.executable
    settings.SYNCTALK_ASR = "ave"
    settings.ERNERF_HOME = ""
    return home


def test_it_lists_which_engines_can_run_and_what_to_install(api, real_engines):
    response = api.get("/api/engines")

    assert response.status_code == 200
    engines = {engine["name"]: engine for engine in response.json()["engines"]}
    assert engines["SyncTalk"] == {"name": "SyncTalk", "available": True, "message": "available",
                                   "on_this_host": True, "queues": []}
    assert engines["ER-NeRF"]["available"] is False
    assert "ERNERF_HOME" in engines["ER-NeRF"]["message"]


@pytest.mark.parametrize("page", ["/", "/pages/training", "/pages/chat"])
def test_the_pages_offer_an_engine_this_host_cannot_run_disabled_with_what_to_install(
        client, user, real_engines, page):
    client.force_login(user)

    html = client.get(page).content.decode()

    assert '<option value="SyncTalk" data-queues="" data-here>SyncTalk</option>' in html
    assert '<option value="ER-NeRF" data-queues="" disabled title="ER-NeRF is not installed: set ERNERF_HOME' in html
    assert ">ER-NeRF (unavailable)</option>" in html


def test_it_answers_503_when_the_engine_is_not_installed(api, media_root, real_engines, settings):
    settings.SYNCTALK_HOME = str(media_root / "nowhere")

    response = train_avatar(api, media_root, model_choice="SyncTalk")

    assert response.status_code == 503
    assert "SYNCTALK_HOME" in response.json()["message"]
    assert not Avatar.objects.exists()


def test_it_answers_503_when_the_checkout_lacks_upstream_files(api, media_root, real_engines):
    (real_engines / "data_utils" / "process.py").unlink()

    response = train_avatar(api, media_root, model_choice="SyncTalk")

    assert response.status_code == 503
    assert "data_utils/process.py" in response.json()["message"]


@pytest.fixture
def web_host_without_checkouts(settings, real_engines, monkeypatch):
    """A web host in a site spread over several hosts: the GPU worker of GPU1 has SyncTalk, this host not."""
    from django_q.conf import Conf

    from monitoring import jobs
    from monitoring.engine_reports import report_on_worker_spawn

    monkeypatch.setattr(Conf, "CLUSTER_NAME", "GPU1")
    report_on_worker_spawn(sender=None, proc_name="Process-1")  # what the worker host does as its workers start
    settings.SYNCTALK_HOME = ""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(jobs, "send", lambda task: None)  # queued for the worker host


def test_a_web_host_accepts_a_job_for_an_engine_a_worker_of_its_queue_reported(
        api, media_root, web_host_without_checkouts):
    response = train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU1")

    assert response.status_code == 200, response.json()
    task = Task.objects.get(pk=response.json()["task_id"])
    assert (task.queue, task.status) == ("GPU1", Task.Status.QUEUED)


def test_a_web_host_refuses_an_engine_no_worker_of_that_queue_reported(api, media_root, web_host_without_checkouts):
    response = train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU0")

    assert response.status_code == 503
    assert "SYNCTALK_HOME" in response.json()["message"]
    assert not Avatar.objects.exists()


def test_a_job_that_finds_its_engine_unusable_on_the_worker_corrects_the_report(
        api, media_root, web_host_without_checkouts):
    """The checkout went away after the worker reported: the job fails, and web hosts stop accepting."""
    from monitoring.runner import run_task

    task_id = train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU1").json()["task_id"]
    run_task(task_id)  # here, where SyncTalk is not installed any more

    task = Task.objects.get(pk=task_id)
    assert task.status == Task.Status.FAILED and "SYNCTALK_HOME" in task.message
    engines = {engine["name"]: engine for engine in api.get("/api/engines").json()["engines"]}
    assert engines["SyncTalk"]["queues"] == [] and engines["SyncTalk"]["available"] is False
    assert train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU1").status_code == 503


def test_only_the_newest_report_of_a_queue_counts(api, media_root, web_host_without_checkouts):
    """The host that served GPU1 before (replaced, renamed) said SyncTalk was usable; the one now does not."""
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.models import EngineReport

    earlier = EngineReport.objects.get(queue="GPU1")
    EngineReport.objects.filter(pk=earlier.pk).update(reported_at=timezone.now() - timedelta(days=3))
    EngineReport.objects.create(host="gpu-b", queue="GPU1", engines={
        REAL_ENGINES["SyncTalk"]: "SyncTalk: /opt/SyncTalk has no main.py"})

    response = train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU1")

    assert response.status_code == 503
    assert response.json()["message"] == (
        "The worker of the chosen GPU cannot run SyncTalk: SyncTalk: /opt/SyncTalk has no main.py")


def test_a_worker_reports_why_it_cannot_run_an_engine_in_each_language_and_the_client_reads_its_own(
        api, media_root, web_host_without_checkouts, settings):
    from monitoring.engine_reports import report_engines

    settings.SYNCTALK_HOME = "/nowhere/SyncTalk"  # the worker of GPU0 has a checkout path that is not one
    report_engines("GPU0")
    settings.SYNCTALK_HOME = ""  # the web host has none, by design

    english = train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU0")
    api.credentials(HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese = train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU0")

    assert english.status_code == chinese.status_code == 503
    assert english.json()["message"].startswith(
        "The worker of the chosen GPU cannot run SyncTalk: SyncTalk: SYNCTALK_HOME=/nowhere/SyncTalk is not a folder")
    assert "SYNCTALK_HOME=/nowhere/SyncTalk" in chinese.json()["message"]
    assert all(ord(char) < 0x2E80 for char in english.json()["message"])
    assert "工作进程" in chinese.json()["message"] and "不是文件夹" in chinese.json()["message"]


def test_reports_of_queues_that_take_no_gpu_choice_are_not_listed(api, web_host_without_checkouts):
    from monitoring.models import EngineReport

    for queue in ("CPU", "GPU7"):  # the CPU queue; a queue the site no longer has
        EngineReport.objects.create(host="gpu-a", queue=queue, engines={REAL_ENGINES["ER-NeRF"]: ""})

    engines = {engine["name"]: engine for engine in api.get("/api/engines").json()["engines"]}

    assert engines["ER-NeRF"]["queues"] == [] and engines["ER-NeRF"]["available"] is False


def test_the_engine_list_names_the_queues_whose_workers_can_run_it(api, web_host_without_checkouts):
    engines = {engine["name"]: engine for engine in api.get("/api/engines").json()["engines"]}

    assert engines["SyncTalk"] == {"name": "SyncTalk", "available": True, "message": "available",
                                   "on_this_host": False, "queues": ["GPU1"]}
    assert engines["ER-NeRF"]["available"] is False and engines["ER-NeRF"]["queues"] == []
    assert "ERNERF_HOME" in engines["ER-NeRF"]["message"]


def test_it_refuses_unknown_custom_params(api, media_root, real_engines):
    response = train_avatar(api, media_root, model_choice="SyncTalk", custom_params="max_epoch=3")

    assert response.status_code == 400
    assert "max_epoch" in response.json()["message"]


def test_it_trains_a_synctalk_avatar_through_the_api(api, media_root, real_engines):
    response = train_avatar(api, media_root, model_choice="SyncTalk", gpu_choice="GPU1",
                            custom_params='{"head_iters": 20, "lips_iters": 10}')

    assert response.status_code == 200, response.json()
    task = Task.objects.get(pk=response.json()["task_id"])
    assert task.status == Task.Status.SUCCEEDED, task.message
    avatar = Avatar.objects.get(pk=response.json()["avatar_id"])
    assert avatar.status == Avatar.Status.READY
    manifest = avatar.manifest_path.read_text()
    assert '"asr_model": "ave"' in manifest and '"lips": 30' in manifest
    assert "Start Training Epoch" in task.log_tail


def test_ernerf_needs_target_text(api, user, media_root, real_engines, settings, tmp_path):
    from tests.flows import clone_voice
    from training.models import Avatar

    home = tmp_path / "ER-NeRF"
    shutil.copytree(STANDINS / "ernerf", home)
    settings.ERNERF_HOME = str(home)
    settings.OPENFACE_FEATURE_EXTRACTION = str(STANDINS / "openface" / "FeatureExtraction")
    settings.VOICE_ENGINES = {"builtin": "tests.doubles.ToneVoice"}
    clone_voice(api, media_root, "speaker_1")
    avatar = Avatar.objects.create(id="user_nerf", engine="ER-NeRF", status=Avatar.Status.READY, source_video="x",
                                   epochs=1, owner=user)
    avatar.folder.mkdir(parents=True)
    avatar.manifest_path.write_text('{"engine": "ER-NeRF"}')

    response = api.post("/video_generation", {"model_name": "ER-NeRF", "model_param": avatar.id,
                                              "ref_audio_id": "speaker_1", "gpu_choice": "GPU0", "target_text": ""})

    assert response.status_code == 400
    assert "target_text" in response.json()["message"]


def test_a_default_engine_this_host_cannot_run_is_not_preselected(client, user, real_engines, settings):
    settings.DEFAULT_TALKING_HEAD_ENGINE = "ER-NeRF"
    client.force_login(user)

    html = client.get("/pages/training").content.decode()

    assert '<option value="ER-NeRF" data-queues="" disabled title=' in html  # a disabled option that is selected is not sent
    assert "selected" not in html.split('id="engine"')[1].split("</select>")[0]
