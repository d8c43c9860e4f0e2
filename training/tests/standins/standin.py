"""Shared behaviour of the SyncTalk / ER-NeRF stand-ins (tests only, copied into each fake checkout).

The stand-ins accept exactly the upstream flags (argparse rejects anything else), append their
arguments and CUDA_VISIBLE_DEVICES to ``calls.jsonl`` in the checkout, print log lines shaped
like upstream's and write files with upstream's names, made of real media. Environment:

- STANDIN_FAIL_ON=<text>: a call whose "script args" contain <text> prints a traceback ending
  in STANDIN_FAIL_MESSAGE and exits 1;
- STANDIN_SOFT_FAIL_ON=<text>: prints STANDIN_FAIL_MESSAGE and exits 0 without its outputs,
  as upstream's process.py does when a sub-step run through os.system fails;
- STANDIN_HANG_ON=<text>: starts a child process, writes both pids to hang.json, and sleeps.

On GPU hosts (tests marked ``on_gpu_host``, where this Python's torch sees CUDA):

- STANDIN_CUDA=1: every call multiplies matrices on the GPU torch picked and records how many
  GPUs it saw and the UUID of the one it used; a hanging call first takes STANDIN_HOLD_MIB of GPU
  memory;
- STANDIN_CUDA_OOM_ON=<text>: such a call asks the GPU for far more memory than it has and dies
  of torch's own out-of-memory error.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
from imageio_ffmpeg import count_frames_and_secs, get_ffmpeg_exe

ROOT = Path(__file__).resolve().parent


def start(script: str, argv: list[str]) -> bool:
    """Record the call and act out the requested failure; False: skip the outputs (soft failure)."""
    call = {"script": script, "argv": argv, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "device_order": os.environ.get("CUDA_DEVICE_ORDER"), "cwd": os.getcwd(),
            "secrets": sorted(name for name in ("SECRET_KEY", "DATABASE_URL", "ZHIPUAI_API_KEY") if name in os.environ)}
    if os.environ.get("STANDIN_CUDA"):
        call.update(work_on_gpu())
    with open(ROOT / "calls.jsonl", "a") as calls:
        calls.write(json.dumps(call) + "\n")
    line = " ".join([script, *argv])
    message = os.environ.get("STANDIN_FAIL_MESSAGE", "RuntimeError: stand-in failure")
    if (text := os.environ.get("STANDIN_CUDA_OOM_ON")) and text in line:
        import torch

        torch.empty(1 << 50, dtype=torch.uint8, device="cuda")  # 1 PiB: torch.OutOfMemoryError
    if (text := os.environ.get("STANDIN_HANG_ON")) and text in line:
        if os.environ.get("STANDIN_CUDA"):
            held = hold_gpu_memory(int(os.environ.get("STANDIN_HOLD_MIB", "2048")))  # noqa: F841 (kept while hanging)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        (ROOT / "hang.json").write_text(json.dumps({"pids": [os.getpid(), child.pid]}))
        print("hanging", flush=True)
        time.sleep(300)
    if (text := os.environ.get("STANDIN_FAIL_ON")) and text in line:
        print("Traceback (most recent call last):")
        print(f'  File "{script}", line 1, in <module>')
        print(message, flush=True)
        sys.exit(1)
    if (text := os.environ.get("STANDIN_SOFT_FAIL_ON")) and text in line:
        print(message, flush=True)
        return False
    return True


def work_on_gpu() -> dict:
    """Real work on the GPU torch picks, as upstream's scripts do; what torch saw."""
    import torch

    a = torch.randn(1024, 1024, device="cuda")
    torch.cuda.synchronize()
    assert torch.isfinite(a @ a).all()
    properties = torch.cuda.get_device_properties(torch.cuda.current_device())
    return {"cuda_devices": torch.cuda.device_count(), "cuda_uuid": str(properties.uuid), "cuda_name": properties.name}


def hold_gpu_memory(mib: int):
    import torch

    held = torch.ones(mib << 20, dtype=torch.uint8, device="cuda")
    torch.cuda.synchronize()
    return held


def python_on_path(*args: str) -> None:
    """Upstream's process.py starts its helper scripts with os.system('python …'): whatever ``python``
    PATH finds, not this interpreter. Like os.system, a failure is printed and ignored."""
    found = shutil.which("python")
    if not found or Path(found).resolve() != Path(sys.executable).resolve():
        print(f"sh: 1: python: not the engine's interpreter ({found})", flush=True)
        return
    subprocess.run([found, *args], check=False)


def ffmpeg(*args: str) -> None:
    subprocess.run([get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def wav_seconds(path: str) -> float:
    with wave.open(path) as audio:
        return audio.getnframes() / audio.getframerate()


def save_features(wav: str, target: str, shape_tail: tuple[int, ...]) -> None:
    """Features at 50 per second, as DeepSpeech / HuBERT give (two per video frame)."""
    count = max(2, round(wav_seconds(wav) * 50))
    np.save(target, np.zeros((count, *shape_tail), dtype=np.float32))
    print(f"[INFO] saved {target} {count}", flush=True)


def process(opt, features: dict[str, list[str]], blendshapes: bool = False) -> None:
    """data_utils/process.py: aud.wav, audio features by --asr, (SyncTalk) bs.npy, transforms_{train,val}.json."""
    base = os.path.dirname(opt.path)
    wav = os.path.join(base, "aud.wav")
    print(f"[INFO] ===== extract audio from {opt.path} to {wav} =====", flush=True)
    ffmpeg("-i", opt.path, "-f", "wav", "-ar", "16000", wav)
    if opt.asr in features:
        python_on_path(*features[opt.asr], wav)
    if blendshapes:
        print("[INFO] ===== extract blendshape =====", flush=True)
        python_on_path("data_utils/blendshape_capture/main.py", f"--path={base}")
    frames, _ = count_frames_and_secs(opt.path)
    for done in range(1, frames + 1):
        print(f"\r{100 * done // frames:3d}% {done}/{frames} [00:00<00:00]", end="", flush=True)
    print()
    split = int(frames * 10 / 11)
    for name, ids in (("train", range(split)), ("val", range(split, frames))):
        Path(base, f"transforms_{name}.json").write_text(json.dumps(
            {"focal_len": 1200.0, "cx": 256.0, "cy": 256.0,
             "frames": [{"img_id": i, "aud_id": i, "transform_matrix": np.eye(4).tolist()} for i in ids]}))
    print("[INFO] ===== finished saving transforms =====", flush=True)


def main(opt, audio_file: str) -> None:
    """main.py: train (resuming the workspace's latest checkpoint) or render a test video."""
    checkpoints = Path(opt.workspace, "checkpoints")
    checkpoints.mkdir(parents=True, exist_ok=True)
    if not Path(opt.path, "transforms_train.json").is_file():
        sys.exit(f"FileNotFoundError: {opt.path}/transforms_train.json")
    if opt.torso and opt.head_ckpt and not Path(opt.head_ckpt).is_file():
        sys.exit(f"FileNotFoundError: [Errno 2] No such file or directory: '{opt.head_ckpt}'")
    saved = sorted(glob.glob(str(checkpoints / "ngp_ep*.pth")))
    epoch = json.loads(Path(saved[-1]).read_text())["epoch"] if saved else 0
    if opt.test:
        return render(opt, max(epoch, 1), audio_file)
    if not Path(opt.path, audio_file).is_file():
        sys.exit(f"FileNotFoundError: [Errno 2] No such file or directory: '{opt.path}/{audio_file}'")
    frames = len(json.loads(Path(opt.path, "transforms_train.json").read_text())["frames"])
    max_epoch = math.ceil(opt.iters / frames)
    print(f"[INFO] max_epoch = {max_epoch}", flush=True)
    for epoch in range(epoch + 1, max_epoch + 1):  # noqa: B020 (resumes after the checkpoint's epoch)
        print(f"==> Start Training Epoch {epoch}, lr=0.010000 ...", flush=True)
        for step in (frames // 2, frames):
            print(f"\rloss=0.0123 (0.0150), lr=0.010000: {100 * step // frames:3d}% {step}/{frames} [00:00<00:00]",
                  end="", flush=True)
        print(f"\n==> Finished Epoch {epoch}.", flush=True)
        state = {"epoch": epoch, "iters": opt.iters, "torso": opt.torso, "lips": opt.finetune_lips}
        (checkpoints / f"ngp_ep{epoch:04d}.pth").write_text(json.dumps(state))
        # Upstream writes its "best" ngp.pth only when it evaluates, every 5000 / frames epochs.
        if epoch % max(1, 5000 // frames) == 0:
            (checkpoints / "ngp.pth").write_text(json.dumps(state))


def render(opt, epoch: int, audio_file: str) -> None:
    aud = opt.aud or os.path.join(opt.path, audio_file)
    if not Path(aud).is_file():
        sys.exit(f"FileNotFoundError: [Errno 2] No such file or directory: '{aud}'")
    seconds = wav_seconds(aud) if aud.endswith(".wav") else len(np.load(aud)) / 50
    results = Path(opt.workspace, "results")
    results.mkdir(parents=True, exist_ok=True)
    name = f"ngp_ep{epoch:04d}"
    print(f"==> Start Test, save results to {results}", flush=True)
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size=512x512:rate=25:duration={seconds}",
           "-pix_fmt", "yuv420p", str(results / f"{name}.mp4"))
    if aud.endswith(".wav"):  # SyncTalk with the AVE encoder also muxes the audio itself
        ffmpeg("-i", str(results / f"{name}.mp4"), "-i", aud, "-c:v", "copy", "-c:a", "aac",
               "-shortest", str(results / f"{name}_audio.mp4"))
    # The depth video comes last and looks newest: it must never be taken for the result.
    depth = results / f"{name}_depth.mp4"
    ffmpeg("-f", "lavfi", "-i", f"color=gray:size=256x256:rate=25:duration={seconds}",
           "-pix_fmt", "yuv420p", str(depth))
    later = time.time() + 60
    os.utime(depth, (later, later))
    print(f"100% {round(seconds * 25)}/{round(seconds * 25)} [00:01<00:00]", flush=True)
    print("==> Finished Test.", flush=True)


def main_parser():
    """The main.py flags SyncTalk and ER-NeRF share (a subset of upstream's; nothing else)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=str)
    parser.add_argument("-O", action="store_true")
    parser.add_argument("--test", action="store_true")
    parser.add_argument("--test_train", action="store_true")
    parser.add_argument("--workspace", type=str, default="workspace")
    parser.add_argument("--iters", type=int, default=200000)
    parser.add_argument("--ckpt", type=str, default="latest")
    parser.add_argument("--preload", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--lr_net", type=float, default=1e-3)
    parser.add_argument("--patch_size", type=int, default=1)
    parser.add_argument("--finetune_lips", action="store_true")
    parser.add_argument("--torso", action="store_true")
    parser.add_argument("--head_ckpt", type=str, default="")
    parser.add_argument("--aud", type=str, default="")
    parser.add_argument("--smooth_path", action="store_true")
    parser.add_argument("--asr_model", type=str, default="deepspeech")
    return parser
