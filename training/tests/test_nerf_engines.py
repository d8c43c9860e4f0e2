"""Contract tests of the SyncTalk and ER-NeRF engines against stand-in checkouts (tests/standins/).

The stand-ins parse upstream's flags with argparse (unknown flags fail), record each call with
its CUDA_VISIBLE_DEVICES, and write upstream's files from real media.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avatar_site.lib import gpus
from avatar_site.lib.engines import EngineUnavailable
from avatar_site.lib.media import probe
from monitoring.errors import JobCancelled
from tests.media import test_video, tone_wav
from tests.processes import alive
from training.engines.base import EngineError, RenderJob, TrainingJob
from training.engines.ernerf import ERNeRF
from training.engines.synctalk import SyncTalk

STANDINS = Path(__file__).parent / "standins"
_nvml_gpu_count = gpus.gpu_count


@pytest.fixture(autouse=True)
def whatever_gpus_this_host_has(monkeypatch):
    """The contract tests run GPU1's stages on any host (CI has none); the GPU-host tests at the
    end put NVML's own count back (``real_gpu_count``)."""
    monkeypatch.setattr(gpus, "gpu_count", lambda: None)


@pytest.fixture
def real_gpu_count(monkeypatch):
    monkeypatch.setattr(gpus, "gpu_count", _nvml_gpu_count)


def latest(workspace: str) -> str:
    """The workspace's newest per-epoch checkpoint, as upstream's README asks for --head_ckpt."""
    return str(sorted(Path(workspace, "checkpoints").glob("ngp_ep*.pth"))[-1])


def _install(name: str, tmp_path: Path) -> Path:
    home = tmp_path / name
    shutil.copytree(STANDINS / name.lower().replace("-", ""), home)
    shutil.copy(STANDINS / "standin.py", home)
    return home


@pytest.fixture
def synctalk_home(settings, tmp_path):
    home = _install("SyncTalk", tmp_path)
    settings.SYNCTALK_HOME = str(home)
    settings.SYNCTALK_PYTHON = sys.executable
    settings.SYNCTALK_ASR = "ave"
    return home


@pytest.fixture
def ernerf_home(settings, tmp_path):
    home = _install("ER-NeRF", tmp_path)
    settings.ERNERF_HOME = str(home)
    settings.ERNERF_PYTHON = sys.executable
    settings.ERNERF_ASR = "deepspeech"
    settings.OPENFACE_FEATURE_EXTRACTION = ""
    return home


@pytest.fixture
def openface(settings, tmp_path):
    folder = tmp_path / "openface"
    shutil.copytree(STANDINS / "openface", folder)
    settings.OPENFACE_FEATURE_EXTRACTION = str(folder / "FeatureExtraction")
    return folder


class FakeProgress:
    """Records progress and log lines; asks to cancel once ``cancel_when()`` turns true."""

    def __init__(self, cancel_when=lambda: False, root=None, start=0.0, end=100.0):
        self.root = root or self
        self.start, self.end = start, end
        self.cancel_when = cancel_when
        self.reports: list[tuple[float, str | None]] = []
        self.lines: list[str] = []

    def __call__(self, percent, message=None):
        self.root.reports.append((self.start + (self.end - self.start) * percent / 100, message))

    def scaled(self, start, end):
        span = self.end - self.start
        return FakeProgress(self.cancel_when, self.root, self.start + span * start / 100,
                            self.start + span * end / 100)

    def log(self, line):
        self.root.lines.append(line)

    def should_cancel(self):
        return self.root.cancel_when()


def calls(home: Path) -> list[dict]:
    path = home / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def training_job(tmp_path: Path, **params) -> TrainingJob:
    video = test_video(tmp_path / "reference.mp4", seconds=2, size="320x240")
    return TrainingJob(avatar_id="user_1", source_video=video, avatar_dir=tmp_path / "avatar",
                       epochs=2, params=params, gpu="GPU1")


def render_job(tmp_path: Path, manifest: dict, seconds: float = 3.0) -> RenderJob:
    (tmp_path / "work").mkdir()
    return RenderJob(avatar_dir=tmp_path / "avatar", manifest=manifest,
                     audio_wav=tone_wav(tmp_path / "work" / "speech.wav", seconds=seconds),
                     output_mp4=tmp_path / "out.mp4", work_dir=tmp_path / "work", gpu="GPU1")


def test_it_trains_synctalk_with_upstream_commands_on_the_chosen_gpu(synctalk_home, tmp_path):
    job = training_job(tmp_path)

    manifest = SyncTalk().train(job, FakeProgress())

    workspace = str(job.avatar_dir / "workspace")
    # 2 s at 25 fps = 50 frames, 45 of them training frames: 2 epochs = 90 iterations.
    assert [(c["script"], c["argv"]) for c in calls(synctalk_home)] == [
        ("data_utils/process.py", ["data/user_1/user_1.mp4", "--asr", "ave"]),
        ("data_utils/blendshape_capture/main.py", ["--path=data/user_1"]),  # process.py starts it
        ("main.py", ["data/user_1", "--workspace", workspace, "-O", "--asr_model", "ave", "--iters", "90"]),
        ("main.py", ["data/user_1", "--workspace", workspace, "-O", "--asr_model", "ave", "--iters", "150",
                     "--finetune_lips", "--patch_size", "64"]),
    ]
    assert {c["cuda"] for c in calls(synctalk_home)} == {"1"}
    assert {c["device_order"] for c in calls(synctalk_home)} == {"PCI_BUS_ID"}  # numbered as NVML numbers them
    assert {c["cwd"] for c in calls(synctalk_home)} == {str(synctalk_home)}
    prepared = probe(synctalk_home / "data/user_1/user_1.mp4")
    assert (prepared.width, prepared.height, round(prepared.fps)) == (512, 512, 25)
    assert manifest["asr_model"] == "ave"
    assert manifest["torso"] is False and manifest["portrait"] is True
    assert manifest["iterations"] == {"head": 90, "lips": 150}
    assert manifest["frames"] == 45
    assert (job.avatar_dir / manifest["checkpoint"]).is_file()
    assert (job.avatar_dir / "logs" / "02_head.log").read_text().count("Start Training Epoch") == 2


def test_it_reports_each_stage_and_iteration_progress(synctalk_home, tmp_path):
    progress = FakeProgress()

    SyncTalk().train(training_job(tmp_path), progress)

    messages = [message for _, message in progress.reports if message]
    assert any("stage 1/3: preprocessing" in m for m in messages)
    assert any("stage 2/3: head training" in m for m in messages)
    assert any("stage 3/3: lips training" in m for m in messages)
    percents = [percent for percent, _ in progress.reports]
    assert percents == sorted(percents)
    assert any(15 < p < 100 for p in percents) and percents[-1] == 100
    assert any("Start Training Epoch 1" in line for line in progress.lines)


def test_it_takes_stage_iterations_and_options_from_custom_params(synctalk_home, tmp_path):
    engine = SyncTalk()
    params = engine.validate_params({"head_iters": "10", "lips_iters": "5", "torso_iters": "7", "torso": "true",
                                     "patch_size": "32", "asr_model": "hubert", "preload": "1", "lr": "0.001"})

    manifest = engine.train(training_job(tmp_path, **params), FakeProgress())

    workspace = str(tmp_path / "avatar" / "workspace")
    head = latest(workspace)
    common = ["-O", "--asr_model", "hubert", "--preload", "1", "--lr", "0.001"]
    assert [c["argv"] for c in calls(synctalk_home) if c["script"] == "main.py"] == [
        ["data/user_1", "--workspace", workspace, *common, "--iters", "10"],
        ["data/user_1", "--workspace", workspace, *common, "--iters", "15", "--finetune_lips", "--patch_size", "32"],
        ["data/user_1", "--workspace", workspace + "_torso", *common, "--torso",
         "--head_ckpt", head, "--iters", "7"],
    ]
    assert ("data_utils/hubert.py", ["--wav", "data/user_1/aud.wav"]) in [
        (c["script"], c["argv"]) for c in calls(synctalk_home)]
    assert manifest["torso"] is True and manifest["workspace"] == "workspace_torso"


def test_it_renders_synctalk_by_name_not_the_newer_depth_video(synctalk_home, tmp_path):
    manifest = SyncTalk().train(training_job(tmp_path), FakeProgress())
    job = render_job(tmp_path, manifest)

    SyncTalk().render(job, FakeProgress())

    render_call = calls(synctalk_home)[-1]
    workspace = str(job.work_dir / "workspace")
    assert render_call["argv"] == ["data/user_1", "--workspace", workspace, "-O", "--test", "--test_train",
                                   "--asr_model", "ave", "--portrait", "--aud", str(job.work_dir / "drive_16k.wav")]
    assert render_call["cuda"] == "1"
    result = probe(job.output_mp4)
    assert (result.width, result.height) == (512, 512)  # the depth video is 256×256
    assert result.has_audio
    assert result.duration == pytest.approx(3.0, abs=0.2)


def test_it_trains_ernerf_with_torso_openface_and_deepspeech_fix(ernerf_home, openface, tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "ZHIPUAI_API_KEY"):
        monkeypatch.setenv(name, "the platform's own")
    job = training_job(tmp_path)

    manifest = ERNeRF().train(job, FakeProgress())

    workspace = str(job.avatar_dir / "workspace")
    common = ["-O", "--asr_model", "deepspeech"]
    assert [(c["script"], c["argv"]) for c in calls(ernerf_home)] == [
        ("data_utils/process.py", ["data/user_1/user_1.mp4", "--asr", "deepspeech"]),
        ("data_utils/deepspeech_features/extract_ds_features.py", ["--input", "data/user_1/aud.wav"]),
        ("main.py", ["data/user_1", "--workspace", workspace, *common, "--iters", "90"]),
        ("main.py", ["data/user_1", "--workspace", workspace, *common, "--iters", "112",
                     "--finetune_lips", "--patch_size", "32"]),
        ("main.py", ["data/user_1", "--workspace", workspace + "_torso", *common, "--torso",
                     "--head_ckpt", latest(workspace), "--iters", "180"]),
    ]
    assert {c["cuda"] for c in calls(ernerf_home)} == {"1"}
    assert all(c["secrets"] == [] for c in calls(ernerf_home))  # the platform's keys stay with the platform
    data = ernerf_home / "data/user_1"
    assert np.array_equal(np.load(data / "aud_ds.npy"), np.load(data / "aud.npy"))
    assert (data / "au.csv").read_text().startswith("frame, face_id")
    assert manifest["torso"] is True
    assert manifest["checkpoint"] == str(Path(latest(workspace + "_torso")).relative_to(tmp_path / "avatar"))
    # Like upstream, the stand-in wrote no "best" ngp.pth in so few epochs: nothing waits for one.
    assert not list((tmp_path / "avatar").rglob("ngp.pth"))


def test_it_refuses_to_train_ernerf_without_openface_before_any_preprocessing(ernerf_home, settings, tmp_path):
    """Its preprocessing never writes au.csv (eye blinks), which training reads."""
    with pytest.raises(EngineUnavailable, match="OPENFACE_FEATURE_EXTRACTION"):
        ERNeRF().train(training_job(tmp_path), FakeProgress())
    settings.OPENFACE_FEATURE_EXTRACTION = "build/bin/FeatureExtraction"  # relative: in the checkout
    with pytest.raises(EngineUnavailable, match="is not a program"):
        ERNeRF().train(training_job(tmp_path), FakeProgress())

    assert calls(ernerf_home) == []
    ERNeRF().check_available()  # rendering a trained avatar needs no OpenFace


def test_it_refuses_to_train_ernerf_when_openface_writes_no_action_units(ernerf_home, openface, tmp_path):
    (openface / "FeatureExtraction").write_text("#!/bin/sh\nexit 0\n")

    with pytest.raises(EngineError, match="OpenFace did not produce user_1.csv"):
        ERNeRF().train(training_job(tmp_path), FakeProgress())

    assert "main.py" not in [c["script"] for c in calls(ernerf_home)]


def test_it_renders_ernerf_and_muxes_the_speech_in(ernerf_home, openface, tmp_path):
    manifest = ERNeRF().train(training_job(tmp_path), FakeProgress())
    job = render_job(tmp_path, manifest, seconds=2.5)

    ERNeRF().render(job, FakeProgress())

    features, render_call = calls(ernerf_home)[-2:]
    assert features["argv"] == ["--input", str(job.work_dir / "drive_16k.wav")]
    assert render_call["argv"] == [
        "data/user_1", "--workspace", str(job.work_dir / "workspace"), "-O", "--torso", "--test", "--test_train",
        "--asr_model", "deepspeech", "--aud", str(job.work_dir / "drive_16k.npy"), "--smooth_path",
    ]
    result = probe(job.output_mp4)
    assert (result.width, result.height) == (512, 512)
    assert result.has_audio
    assert result.duration == pytest.approx(2.5, abs=0.2)


def test_it_reports_the_meaningful_line_of_a_failed_stage(synctalk_home, tmp_path, monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL_ON", "--finetune_lips")
    monkeypatch.setenv("STANDIN_FAIL_MESSAGE", "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(EngineError) as failure:
        SyncTalk().train(training_job(tmp_path), FakeProgress())

    assert str(failure.value) == "SyncTalk lips failed: RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"


def test_a_failed_stage_is_named_in_the_readers_language(synctalk_home, tmp_path, monkeypatch):
    from django.utils import translation

    monkeypatch.setenv("STANDIN_FAIL_ON", "--finetune_lips")
    monkeypatch.setenv("STANDIN_FAIL_MESSAGE", "RuntimeError: CUDA out of memory.")

    with translation.override("zh-hans"), pytest.raises(EngineError) as failure:
        SyncTalk().train(training_job(tmp_path), FakeProgress())

    assert str(failure.value) == "SyncTalk 的嘴唇阶段失败：RuntimeError: CUDA out of memory."


def test_it_notices_a_preprocessing_step_that_failed_quietly(synctalk_home, tmp_path, monkeypatch):
    monkeypatch.setenv("STANDIN_SOFT_FAIL_ON", "process.py")
    monkeypatch.setenv("STANDIN_FAIL_MESSAGE", "[ERROR] No faces were detected.")

    with pytest.raises(EngineError, match="No faces were detected"):
        SyncTalk().train(training_job(tmp_path), FakeProgress())

    assert "main.py" not in [c["script"] for c in calls(synctalk_home)]


def test_it_stops_when_synctalks_blendshape_capture_failed_inside_preprocessing(synctalk_home, tmp_path, monkeypatch):
    """process.py starts it with os.system and carries on; training would die on the missing bs.npy."""
    monkeypatch.setenv("STANDIN_FAIL_ON", "blendshape_capture")
    monkeypatch.setenv("STANDIN_FAIL_MESSAGE", "ModuleNotFoundError: No module named 'mediapipe'")

    with pytest.raises(EngineError) as failure:
        SyncTalk().train(training_job(tmp_path), FakeProgress())

    assert str(failure.value) == ("SyncTalk blendshape capture did not produce bs.npy: "
                                  "ModuleNotFoundError: No module named 'mediapipe'")
    assert "main.py" not in [c["script"] for c in calls(synctalk_home)]


def test_it_cancels_a_hanging_stage_with_its_whole_process_group(synctalk_home, tmp_path, monkeypatch):
    monkeypatch.setenv("STANDIN_HANG_ON", "--iters 90")
    hang = synctalk_home / "hang.json"
    progress = FakeProgress(cancel_when=hang.exists)

    with pytest.raises(JobCancelled):
        SyncTalk().train(training_job(tmp_path), progress)

    pids = json.loads(hang.read_text())["pids"]
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)


@pytest.mark.parametrize(
    "params, expected",
    [({"max_epoch": "3"}, "unknown key"), ({"asr_model": "ave"}, "asr_model"), ({"preload": "5"}, "preload"),
     ({"patch_size": "0"}, "patch_size"), ({"torso": 5}, "torso"), ({"torso": 0.5}, "torso"),
     ({"torso": None}, "torso")],
)
def test_it_refuses_params_upstream_would_not_take(params, expected):
    with pytest.raises(ValueError, match=expected):
        ERNeRF().validate_params(params)


def test_rendering_on_a_host_without_the_training_data_names_the_gpu_to_render_with(synctalk_home, tmp_path):
    manifest = SyncTalk().train(training_job(tmp_path), FakeProgress())
    assert manifest["trained_on"]["gpu"] == "GPU1"
    shutil.rmtree(synctalk_home / "data" / "user_1")  # another GPU host's checkout: no data/<ID>
    job = render_job(tmp_path, {**manifest, "trained_on": {"host": "gpu-host-b", "gpu": "GPU0"}})  # job: GPU1

    with pytest.raises(EngineError) as refused:
        SyncTalk().render(job, FakeProgress())

    assert str(refused.value) == ("SyncTalk: the avatar's training data is in the checkout of host gpu-host-b, "
                                  "where it was trained: render it with gpu_choice=GPU0.")
    # Sent to its GPU already, whose host was since replaced: the data is gone, not elsewhere.
    moved = dataclasses.replace(job, manifest={**manifest, "trained_on": {"host": "gpu-host-b", "gpu": "GPU1"}})
    with pytest.raises(EngineError, match="is gone; train it again"):
        SyncTalk().render(moved, FakeProgress())
    (tmp_path / "work2").mkdir()
    trained_here = dataclasses.replace(job, manifest=manifest, work_dir=tmp_path / "work2")
    with pytest.raises(EngineError, match="is gone; train it again"):
        SyncTalk().render(trained_here, FakeProgress())


def test_it_renders_synctalk_deepspeech_features_and_muxes_the_speech(synctalk_home, tmp_path):
    engine = SyncTalk()
    manifest = engine.train(training_job(tmp_path, **engine.validate_params({"asr_model": "deepspeech"})),
                            FakeProgress())
    job = render_job(tmp_path, manifest, seconds=2.0)

    engine.render(job, FakeProgress())

    features, render_call = calls(synctalk_home)[-2:]
    assert features["script"] == "data_utils/deepspeech_features/extract_ds_features.py"
    assert features["argv"] == ["--input", str(job.work_dir / "drive_16k.wav")]
    assert render_call["argv"][-4:] == ["deepspeech", "--portrait", "--aud", str(job.work_dir / "drive_16k_ds.npy")]
    result = probe(job.output_mp4)
    assert result.has_audio and result.duration == pytest.approx(2.0, abs=0.2)


@pytest.mark.parametrize("field", ["workspace", "data_id"])
@pytest.mark.parametrize("value", ["../other/workspace", "/etc", "a/b", ""])
def test_it_refuses_to_render_from_a_manifest_path_that_is_not_a_plain_name(synctalk_home, tmp_path, field, value):
    avatar_dir = tmp_path / "avatar"
    (avatar_dir / "workspace" / "checkpoints").mkdir(parents=True)
    manifest = {"engine": "SyncTalk", "workspace": "workspace", "data_id": "user_1", "asr_model": "ave", field: value}
    (tmp_path / "work").mkdir()

    with pytest.raises(EngineError, match=f"unusable {field}"):
        SyncTalk().render(RenderJob(avatar_dir, manifest, tone_wav(tmp_path / "work" / "s.wav", 1.0),
                                    tmp_path / "out.mp4", tmp_path / "work"), FakeProgress())


@pytest.mark.django_db
def test_deleting_the_avatar_deletes_its_preprocessed_data_in_the_checkout(synctalk_home, tmp_path):
    from training.models import Avatar

    SyncTalk().train(training_job(tmp_path), FakeProgress())
    data = synctalk_home / "data" / "user_1"
    assert data.is_dir()
    avatar = Avatar.objects.create(id="user_1", engine="SyncTalk", source_video="reference.mp4", epochs=2)

    avatar.delete()

    assert not data.exists()
    assert (synctalk_home / "data").is_dir()  # the checkout's own data folder stays


def test_a_queue_whose_gpu_this_host_lacks_is_refused_before_any_stage(synctalk_home, tmp_path, settings,
                                                                        monkeypatch):
    monkeypatch.setattr(gpus, "gpu_count", lambda: 1)  # a one-GPU worker host serving the site's GPU1

    with pytest.raises(EngineError, match=r"no GPU 1 for GPU1; set GPU_DEVICES on it \(e.g. GPU_DEVICES=GPU1=0\)"):
        SyncTalk().train(training_job(tmp_path), FakeProgress())
    assert calls(synctalk_home) == []

    settings.GPU_DEVICES = ["GPU1=0"]
    SyncTalk().train(training_job(tmp_path), FakeProgress())
    assert {c["cuda"] for c in calls(synctalk_home)} == {"0"}


def test_missing_cuda_devices_are_only_numbers_nvml_does_not_count(monkeypatch):
    monkeypatch.setattr(gpus, "gpu_count", lambda: 2)
    assert gpus.missing_cuda_devices("0,1") == []
    assert gpus.missing_cuda_devices("1, 3") == ["3"]
    assert gpus.missing_cuda_devices("GPU-5f1c2e3a-0000-0000-0000-000000000000") == []
    monkeypatch.setattr(gpus, "gpu_count", lambda: None)  # no driver here: nothing to go by
    assert gpus.missing_cuda_devices("7") == []


# ----- On a GPU host ---------------------------------------------------------------------------
# Where NVML counts a GPU and this Python's torch can use it, the stand-ins work on the GPU
# (STANDIN_CUDA, see standin.py): what only a GPU host shows. Elsewhere (CI) these are skipped.


def _nvml_gpus() -> list[dict]:
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return []
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            uuid = pynvml.nvmlDeviceGetUUID(handle)
            found.append({"index": index, "uuid": uuid.decode() if isinstance(uuid, bytes) else uuid})
        return found
    finally:
        pynvml.nvmlShutdown()


def _torch_sees_cuda() -> bool:
    check = "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"
    return subprocess.run([sys.executable, "-c", check], capture_output=True).returncode == 0


on_gpu_host = pytest.mark.skipif(not (_nvml_gpus() and _torch_sees_cuda()),
                                 reason="needs a GPU host: NVML counting a GPU and this Python's torch using CUDA")


@pytest.fixture
def on_last_gpu(real_gpu_count, settings, monkeypatch):
    """The site's GPU1 served by this host's last GPU; the stand-ins compute on it."""
    gpu = _nvml_gpus()[-1]
    settings.GPU_DEVICES = [f"GPU1={gpu['index']}"]
    monkeypatch.setenv("STANDIN_CUDA", "1")
    return gpu


def _memory_used(index: int) -> int:
    return next(gpu["memory_used"] for gpu in gpus.gpu_stats(max_age=0) if gpu["index"] == index)


@on_gpu_host
def test_on_a_gpu_host_every_stage_computes_on_the_gpu_its_queue_maps_to(synctalk_home, tmp_path, on_last_gpu):
    manifest = SyncTalk().train(training_job(tmp_path), FakeProgress())
    SyncTalk().render(render_job(tmp_path, manifest, seconds=2.0), FakeProgress())

    stages = calls(synctalk_home)
    assert [c["script"] for c in stages] == ["data_utils/process.py", "main.py", "main.py", "main.py"]
    assert {c["cuda"] for c in stages} == {str(on_last_gpu["index"])}
    # One GPU visible, and it is the one NVML (the status page, GPU_DEVICES) numbers so.
    assert {(c["cuda_devices"], c["cuda_uuid"]) for c in stages} == {(1, on_last_gpu["uuid"].removeprefix("GPU-"))}


@on_gpu_host
def test_on_a_gpu_host_a_queue_without_its_gpu_is_refused(synctalk_home, tmp_path, real_gpu_count, settings,
                                                          monkeypatch):
    monkeypatch.setenv("STANDIN_CUDA", "1")
    settings.GPU_DEVICES = []
    job = training_job(tmp_path)
    absent = f"GPU{len(_nvml_gpus())}"

    with pytest.raises(EngineError, match=f"no GPU {absent[3:]} for {absent}"):
        SyncTalk().train(dataclasses.replace(job, gpu=absent), FakeProgress())
    assert calls(synctalk_home) == []


@on_gpu_host
def test_on_a_gpu_host_cancelling_a_stage_gives_its_gpu_memory_back(synctalk_home, tmp_path, on_last_gpu,
                                                                     monkeypatch):
    index = on_last_gpu["index"]
    monkeypatch.setenv("STANDIN_HANG_ON", "--iters 90")
    monkeypatch.setenv("STANDIN_HOLD_MIB", "4096")
    hang = synctalk_home / "hang.json"
    before = _memory_used(index)
    held = []

    def cancel_once_holding():
        if hang.exists():
            held.append(_memory_used(index))
            return True
        return False

    with pytest.raises(JobCancelled):
        SyncTalk().train(training_job(tmp_path), FakeProgress(cancel_when=cancel_once_holding))

    assert held[0] - before >= 4096 << 20  # the status page saw the stage's memory
    deadline = time.monotonic() + 20
    while _memory_used(index) - before > 256 << 20 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _memory_used(index) - before <= 256 << 20


@on_gpu_host
def test_on_a_gpu_host_a_stage_out_of_gpu_memory_fails_with_torchs_own_line(synctalk_home, tmp_path, on_last_gpu,
                                                                            monkeypatch):
    monkeypatch.setenv("STANDIN_CUDA_OOM_ON", "--finetune_lips")

    with pytest.raises(EngineError) as failure:
        SyncTalk().train(training_job(tmp_path), FakeProgress())

    assert str(failure.value).startswith("SyncTalk lips failed: ")
    assert "CUDA out of memory" in str(failure.value)


@pytest.mark.django_db
def test_a_workspace_trained_outside_the_platform_is_registered_and_renders(synctalk_home, tmp_path, settings,
                                                                           django_user_model):
    from django.core.management import CommandError, call_command

    from training.models import Avatar

    settings.TALKING_HEAD_ENGINES = {**settings.TALKING_HEAD_ENGINES, "SyncTalk": "training.engines.synctalk.SyncTalk"}
    settings.GPU_QUEUES = ["GPU0", "GPU1"]
    django_user_model.objects.create_user("alice")
    SyncTalk().train(training_job(tmp_path), FakeProgress())  # upstream's data/user_1 and a workspace
    outside = tmp_path / "model" / "trial_alice"
    shutil.copytree(tmp_path / "avatar" / "workspace", outside)
    (synctalk_home / "data" / "user_1").rename(synctalk_home / "data" / "alice")  # trained by hand as "alice"

    with pytest.raises(CommandError, match="no data/someone_else"):
        call_command("register_avatar", "SyncTalk", str(outside), "--data-id", "someone_else", "--asr", "ave",
                     "--owner", "alice", "--gpu", "GPU1")
    with pytest.raises(CommandError, match="Name the GPU queue this host serves: --gpu GPU0 or GPU1"):
        call_command("register_avatar", "SyncTalk", str(outside), "--data-id", "alice", "--asr", "ave",
                     "--owner", "alice")
    with pytest.raises(CommandError, match="named like the platform's own avatars"):
        call_command("register_avatar", "SyncTalk", str(outside), "--data-id", "user_20261204", "--asr", "ave",
                     "--owner", "alice", "--gpu", "GPU1")
    call_command("register_avatar", "SyncTalk", str(outside), "--data-id", "alice", "--asr", "ave",
                 "--owner", "alice", "--gpu", "GPU1")

    avatar = Avatar.objects.get(status=Avatar.Status.READY)
    manifest = json.loads(avatar.manifest_path.read_text())
    (tmp_path / "work").mkdir()
    job = RenderJob(avatar_dir=avatar.folder, manifest=manifest,
                    audio_wav=tone_wav(tmp_path / "work" / "speech.wav", seconds=2.0),
                    output_mp4=tmp_path / "out.mp4", work_dir=tmp_path / "work", gpu="GPU1")
    SyncTalk().render(job, FakeProgress())
    assert calls(synctalk_home)[-1]["argv"][:2] == ["data/alice", "--workspace"]
    assert probe(job.output_mp4).has_video
    avatar.delete()
    assert (synctalk_home / "data" / "alice").is_dir() and outside.is_dir()  # the operator's, not ours


@pytest.mark.django_db
def test_a_nerf_avatar_deleted_where_there_is_no_checkout_has_its_data_deleted_by_its_gpu_host(
        synctalk_home, settings, monkeypatch, django_capture_on_commit_callbacks):
    from training.models import Avatar
    from training.tasks import remove_training_data

    settings.TALKING_HEAD_ENGINES = {**settings.TALKING_HEAD_ENGINES, "SyncTalk": "training.engines.synctalk.SyncTalk"}
    sent = []
    monkeypatch.setattr("django_q.tasks.async_task",
                        lambda func, *args, **kwargs: sent.append((func, args, kwargs["cluster"])))
    data = synctalk_home / "data" / "user_20261205"
    data.mkdir(parents=True)
    Avatar.objects.create(id="user_20261205", engine="SyncTalk", status=Avatar.Status.READY, source_video="x",
                          epochs=1, gpu="GPU1")
    settings.SYNCTALK_HOME = ""  # the web host, where the delete happens

    with django_capture_on_commit_callbacks(execute=True) as on_commit:
        Avatar.objects.get().delete()
        assert sent == []  # not before the deletion is committed: the worker would still find the avatar

    assert len(on_commit) == 1
    assert sent == [("training.tasks.remove_training_data", ("SyncTalk", "user_20261205"), "GPU1")]
    assert data.exists()
    settings.SYNCTALK_HOME = str(synctalk_home)  # the worker of GPU1, which trained it
    Avatar.objects.create(id="user_20261205", engine="SyncTalk", status=Avatar.Status.TRAINING, source_video="y",
                          epochs=1, gpu="GPU1")  # the freed id, trained again before the worker got to it
    remove_training_data("SyncTalk", "user_20261205")
    assert data.exists()
    Avatar.objects.all().update(status=Avatar.Status.FAILED)
    remove_training_data("SyncTalk", "user_20261205")
    assert not data.exists()
