"""What SyncTalk and ER-NeRF share: both are torch-ngp descendants run as external checkouts.

Each engine is a checkout of its upstream repository with its own Python environment (PyTorch
1.12 / CUDA 11.3, which cannot live in the platform's venv). We drive it stage by stage through
its documented command lines, in its checkout as working directory:

1. preprocess: our ffmpeg puts the reference video at ``<home>/data/<ID>/<ID>.mp4`` (25 fps, a
   centred 512×512 crop), then ``data_utils/process.py`` extracts frames, parsing, landmarks,
   3DMM tracking and ``transforms_*.json``;
2. head, lips (``--finetune_lips``, continuing the head's workspace) and optionally torso
   (its own workspace, seeded with ``--head_ckpt``), each a ``main.py`` run whose ``--iters`` is
   a total, not an increment;
3. rendering: audio features for the new speech, then ``main.py --test --test_train --aud``,
   and the result picked by its exact name in ``<workspace>/results``.

The preprocessed data stays in the checkout's ``data/<ID>`` (where upstream expects it; the
test-time dataset needs it), the trained workspaces live in the avatar folder (``workspace`` and
``workspace_torso``), so deleting the avatar deletes its model. Every stage's full log is kept
in ``<avatar>/logs/``.

Upstream's ``process.py`` runs its sub-steps with ``os.system`` and exits 0 whatever happened
inside, so each stage is checked by the files it must leave, and a missing file is reported
with the last meaningful line of that stage's output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from abc import abstractmethod
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avatar_site.lib.engines import EngineUnavailable
from avatar_site.lib.gpus import cuda_device_index, missing_cuda_devices
from avatar_site.lib.media import MediaError, mux_browser_mp4, probe, run_ffmpeg, to_wav
from avatar_site.lib.processes import CommandCancelled, CommandFailed, engine_environment, run_command
from monitoring.errors import JobCancelled
from training.engines.base import EngineError, RenderJob, TalkingHeadEngine, TrainingJob

FPS = 25
FRAME_SIZE = 512
#: Share of the training progress bar given to preprocessing; the rest follows iterations.
PREPROCESS_SHARE = 15.0
HEAD_CHECKPOINT = "<the head's latest checkpoint>"


def latest_checkpoint(workspace: Path) -> Path:
    """The newest ``ngp_ep####.pth`` (a pattern that exists nowhere when there is none).

    Upstream saves one every epoch and renders with the latest; its ``ngp.pth`` (the "best") is
    written only when it evaluates, every 5 000 / frames epochs, so short runs never have one.
    """
    saved = sorted((workspace / "checkpoints").glob("ngp_ep*.pth"))
    return saved[-1] if saved else workspace / "checkpoints" / "ngp_ep*.pth"


#: Stage names (also log file names and manifest keys) in the reader's words, for messages.
STAGE_WORDS = {
    "preprocess": gettext_lazy("preprocessing"),
    "features": gettext_lazy("audio features"),
    "hubert": gettext_lazy("HuBERT features"),
    "openface": gettext_lazy("OpenFace action units"),
    "head": gettext_lazy("head"),
    "lips": gettext_lazy("lips"),
    "torso": gettext_lazy("torso"),
    "render": gettext_lazy("rendering"),
}


@dataclass(frozen=True)
class Stage:
    name: str
    args: list[str]
    #: The program to run; None: the engine's Python with ``args`` as a script and its flags.
    program: str | None = None


def meaningful_error(lines: list[str] | deque[str]) -> str | None:
    """The line of a failed stage that tells the user what went wrong, if there is one."""
    lines = [line.strip() for line in lines if line.strip()]
    # Known causes first: they are often followed by less useful traceback lines.
    for known in ("out of memory", "no faces were detected", "no face detected"):
        for line in reversed(lines):
            if known in line.lower():
                return line
    hints = ("error", "exception", "no such file", "not found", "assert", "killed", "cannot", "failed")
    for line in reversed(lines):
        lowered = line.lower()
        if lowered.startswith("traceback"):
            continue
        if any(hint in lowered for hint in hints):
            return line
    return lines[-1] if lines else None


class StageMonitor:
    """Turns one stage's output into log lines and progress within the stage.

    torch-ngp's trainer prints ``[INFO] max_epoch = M`` and ``==> Start Training Epoch E`` and a
    tqdm bar ``n/total`` per epoch; a resumed stage (lips) starts at a later epoch, so progress
    counts from the first epoch this run printed.
    """

    _COUNTER = re.compile(r"(?<![\d./])(\d+)/(\d+)(?![\d/])")
    _MAX_EPOCH = re.compile(r"max_epoch\s*=\s*(\d+)")
    _EPOCH = re.compile(r"Start Training Epoch (\d+)")

    def __init__(self, progress, label: str, report_seconds: float = 0.5):
        self.progress = progress
        self.label = label
        self.report_seconds = report_seconds
        self.tail: deque[str] = deque(maxlen=200)
        self.max_epoch: int | None = None
        self.first_epoch: int | None = None
        self.epoch: int | None = None
        self.fraction = 0.0
        self._last_report = 0.0

    def __call__(self, line: str) -> None:
        self.tail.append(line)
        self.progress.log(line)
        if match := self._MAX_EPOCH.search(line):
            self.max_epoch = int(match.group(1))
        elif match := self._EPOCH.search(line):
            self.epoch = int(match.group(1))
            self.first_epoch = self.first_epoch or self.epoch
            self._update(0.0)
        elif match := self._COUNTER.search(line):
            done, total = int(match.group(1)), int(match.group(2))
            if 0 < total and done <= total:
                self._update(done / total)

    def _update(self, within: float) -> None:
        if self.max_epoch and self.epoch and self.first_epoch:
            epochs = max(1, self.max_epoch - self.first_epoch + 1)
            fraction = (self.epoch - self.first_epoch + within) / epochs
        else:
            fraction = within
        self.fraction = max(0.0, min(fraction, 1.0))
        now = time.monotonic()
        if now - self._last_report >= self.report_seconds or self.fraction >= 1.0:
            self._last_report = now
            self.progress(100 * self.fraction,
                          _("%(step)s: %(percent).0f%%") % {"step": self.label, "percent": 100 * self.fraction})


NUM_RAYS = 65536  # main.py's --num_rays default, which we leave as is


class NeRFEngine(TalkingHeadEngine):
    """The common driver; subclasses say how their upstream differs (flags, file names)."""

    keeps_training_data = True  # <home>/data/<avatar id>, which upstream's renderer reads
    #: Settings names, the upstream repository and the ASR models that engine supports.
    home_setting = ""
    python_setting = ""
    asr_setting = ""
    repository = ""
    asr_models: tuple[str, ...] = ()
    #: --patch_size of the lip fine-tuning stage in upstream's README.
    lips_patch_size = 32
    #: Iterations of the later stages relative to the head stage, as in upstream's README.
    lips_ratio = 0.25
    torso_ratio = 2.0
    torso_default = False
    # No archive_files: upstream loads checkpoints with torch.load's full unpickling, so an
    # uploaded .pth would run its author's code on the GPU host.

    allowed_params = {
        "head_iters": int,
        "lips_iters": int,
        "torso_iters": int,
        "patch_size": int,
        "asr_model": str,
        "preload": int,
        "torso": bool,
        # Upstream's --lr / --lr_net (the spec's own example is "lr=0.001").
        "lr": float,
        "lr_net": float,
    }
    text_optional = True

    # ----- configuration -------------------------------------------------------------

    @property
    def home(self) -> Path:
        return Path(getattr(settings, self.home_setting) or "")

    @property
    def python(self) -> str:
        return getattr(settings, self.python_setting)

    def training_data(self, avatar_id: str) -> Path | None:
        """The preprocessed ``data/<avatar id>`` in the checkout (thousands of frames per avatar)."""
        configured = getattr(settings, self.home_setting)
        if not configured or not re.fullmatch(r"[A-Za-z0-9_-]+", avatar_id):
            return None
        return Path(configured) / "data" / avatar_id

    def check_available(self) -> None:
        configured = getattr(settings, self.home_setting)
        install = _("install %(repository)s with its environment (README, 'GPU engines')") % {
            "repository": self.repository}
        if not configured:
            raise EngineUnavailable(_("%(engine)s is not installed: set %(setting)s and %(install)s.") % {
                "engine": self.name, "setting": self.home_setting, "install": install})
        home = Path(configured)
        if not home.is_dir():
            raise EngineUnavailable(_("%(engine)s: %(setting)s=%(value)s is not a folder; %(install)s.") % {
                "engine": self.name, "setting": self.home_setting, "value": configured, "install": install})
        for needed in ("main.py", "data_utils/process.py"):
            if not (home / needed).is_file():
                raise EngineUnavailable(
                    _("%(engine)s: %(home)s has no %(file)s; is it a checkout of %(repository)s?") % {
                        "engine": self.name, "home": configured, "file": needed, "repository": self.repository}
                )
        if not (Path(self.python).is_file() or shutil.which(self.python)):
            raise EngineUnavailable(
                _("%(engine)s: %(setting)s=%(value)s is not an interpreter; "
                  "point it at the Python of the %(engine)s environment.") % {
                    "engine": self.name, "setting": self.python_setting, "value": self.python}
            )

    def validate_params(self, params: dict) -> dict:
        converted = super().validate_params(params)
        for key in ("head_iters", "lips_iters", "torso_iters"):
            if key in converted and converted[key] < 0:
                raise ValueError(_("%(key)s must be 0 or more") % {"key": key})
        if "head_iters" in converted and converted["head_iters"] == 0:
            raise ValueError(_("head_iters must be at least 1"))
        # Upstream's main.py asserts num_rays (65536) % patch_size² == 0, at the lips stage: after
        # the whole head stage has trained.
        if "patch_size" in converted and (converted["patch_size"] < 1 or NUM_RAYS % converted["patch_size"] ** 2):
            raise ValueError(
                _("patch_size must be a power of two from 1 to 256 (65536 rays are cut into patch_size² squares)"))
        if converted.get("preload", 0) not in (0, 1, 2):
            raise ValueError(_("preload must be 0 (disk), 1 (CPU) or 2 (GPU)"))
        if "asr_model" in converted and converted["asr_model"] not in self.asr_models:
            raise ValueError(_("asr_model must be one of %(choices)s") % {"choices": ", ".join(self.asr_models)})
        return converted

    # ----- upstream differences (overridden by the engines) --------------------------

    @abstractmethod
    def preprocess_args(self, video: str, asr: str) -> list[str]:
        """Arguments of data_utils/process.py for the prepared video."""

    def after_preprocess(self, data_dir: Path, asr: str, runner: _StageRunner, progress) -> None:
        """Engine-specific completion of the preprocessed data, before training starts."""

    @abstractmethod
    def feature_args(self, wav: Path, asr: str) -> tuple[list[str] | None, Path]:
        """The command computing audio features for ``wav`` (None: none needed) and the --aud value."""

    @abstractmethod
    def render_args(self, data: str, workspace: str, aud: Path, manifest: dict) -> list[str]:
        """Arguments of main.py that render ``aud`` with the trained workspace."""

    # ----- training ------------------------------------------------------------------

    def check_trainable(self) -> None:
        """What training needs beyond rendering (EngineUnavailable), checked before any stage runs."""

    def train(self, job: TrainingJob, progress) -> dict:
        self.check_available()
        self.check_trainable()
        asr = job.params.get("asr_model") or getattr(settings, self.asr_setting)
        torso = job.params.get("torso", self.torso_default)
        data_id = job.avatar_id
        if not re.fullmatch(r"[A-Za-z0-9_-]+", data_id):  # it becomes a folder name in the checkout
            raise EngineError(_("%(engine)s: avatar id %(id)r is not usable as a folder name.") % {
                "engine": self.name, "id": data_id})
        data_rel = f"data/{data_id}"
        data_dir = self.home / data_rel
        logs = job.avatar_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        runner = _StageRunner(self, job.gpu, logs)

        with_lips = job.params.get("lips_iters", 1) > 0
        with_torso = bool(torso) and job.params.get("torso_iters", 1) > 0
        count = 2 + with_lips + with_torso

        progress(0, _("%(engine)s: preparing the reference video") % {"engine": self.name})
        video = self._prepare_video(job.source_video, data_dir, data_id)
        preprocess = progress.scaled(0, PREPROCESS_SHARE)
        runner.run(Stage("preprocess", self.preprocess_args(f"{data_rel}/{data_id}.mp4", asr)),
                   preprocess, _("stage %(number)s/%(count)s: preprocessing") % {"number": 1, "count": count})
        self.after_preprocess(data_dir, asr, runner, preprocess)
        frames = self._training_frames(data_dir, runner)

        head_iters = job.params.get("head_iters") or job.epochs * frames
        lips_extra = job.params.get("lips_iters", max(1, round(head_iters * self.lips_ratio)))
        torso_iters = job.params.get("torso_iters", max(1, round(head_iters * self.torso_ratio))) if torso else 0
        workspace = job.avatar_dir / "workspace"
        torso_workspace = job.avatar_dir / "workspace_torso"
        common = ["-O", "--asr_model", asr]
        for key in ("preload", "lr", "lr_net"):
            if key in job.params:
                common += [f"--{key}", str(job.params[key])]
        stages: list[tuple[Stage, int]] = [
            (Stage("head", ["main.py", data_rel, "--workspace", str(workspace), *common,
                            "--iters", str(head_iters)]), head_iters),
        ]
        if lips_extra:
            patch = job.params.get("patch_size", self.lips_patch_size)
            stages.append((Stage("lips", ["main.py", data_rel, "--workspace", str(workspace), *common,
                                          "--iters", str(head_iters + lips_extra), "--finetune_lips",
                                          "--patch_size", str(patch)]), lips_extra))
        if torso and torso_iters:  # --head_ckpt is filled in once the head (and lips) stages have run
            stages.append((Stage("torso", ["main.py", data_rel, "--workspace", str(torso_workspace), *common,
                                           "--torso", "--head_ckpt", HEAD_CHECKPOINT,
                                           "--iters", str(torso_iters)]), torso_iters))

        total = sum(weight for _unused, weight in stages)
        done = 0
        for number, (stage, weight) in enumerate(stages, start=2):
            share = (100 - PREPROCESS_SHARE) / total
            scaled = progress.scaled(PREPROCESS_SHARE + share * done, PREPROCESS_SHARE + share * (done + weight))
            if HEAD_CHECKPOINT in stage.args:  # upstream's README: the head's latest checkpoint
                head = latest_checkpoint(workspace)
                stage = Stage(stage.name, [str(head) if arg == HEAD_CHECKPOINT else arg for arg in stage.args])
            runner.run(stage, scaled, _("stage %(number)s/%(count)s: %(stage)s training") % {
                "number": number, "count": count, "stage": STAGE_WORDS.get(stage.name, stage.name)})
            # main.py exits non-zero when a stage fails (unlike process.py); a lips stage whose
            # iterations add no epoch legitimately leaves the head's checkpoint as it was.
            stage_workspace = torso_workspace if stage.name == "torso" else workspace
            self.expect(latest_checkpoint(stage_workspace), STAGE_WORDS.get(stage.name, stage.name), runner)
            done += weight
        progress(100, _("%(engine)s: trained") % {"engine": self.name})

        final_workspace = torso_workspace if torso and torso_iters else workspace
        return {
            "engine": self.name,
            "source_video": str(job.source_video),
            "prepared_video": str(video),
            "data_id": data_id,
            "data_dir": str(data_dir),
            # Upstream's renderer reads data_dir in this host's checkout: render where it was trained.
            "trained_on": {"host": socket.gethostname(), "gpu": job.gpu},
            "workspace": final_workspace.name,
            "head_workspace": workspace.name,
            "checkpoint": str(latest_checkpoint(final_workspace).relative_to(job.avatar_dir)),
            "asr_model": asr,
            "torso": bool(torso and torso_iters),
            "portrait": not (torso and torso_iters),
            "frames": frames,
            "fps": FPS,
            "iterations": {stage.name: int(_iters(stage.args)) for stage, _unused in stages},
        }

    def _prepare_video(self, source: Path, data_dir: Path, data_id: str) -> Path:
        try:
            info = probe(source)
        except MediaError as exc:
            raise EngineError(_("%(engine)s: the reference video is not usable (%(error)s).") % {
                "engine": self.name, "error": exc}) from None
        if not info.has_video or not info.has_audio:
            raise EngineError(_("%(engine)s needs a reference video with both picture and speech.") % {
                "engine": self.name})
        # A previous attempt under the same id must not leave frames or features behind.
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        target = data_dir / f"{data_id}.mp4"
        side = "min(iw\\,ih)"
        try:
            run_ffmpeg([
                "-i", str(source), "-vf", f"crop={side}:{side},scale={FRAME_SIZE}:{FRAME_SIZE},fps={FPS}",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "192k", str(target),
            ])
        except MediaError as exc:
            raise EngineError(_("%(engine)s: preparing the reference video failed (%(error)s).") % {
                "engine": self.name, "error": exc}) from None
        return target

    def _training_frames(self, data_dir: Path, runner: _StageRunner) -> int:
        transforms = data_dir / "transforms_train.json"
        self.expect(transforms, "preprocess", runner)
        try:
            frames = len(json.loads(transforms.read_text())["frames"])
        except (OSError, ValueError, KeyError, TypeError):
            raise EngineError(_("%(engine)s: preprocessing wrote an unreadable %(file)s.") % {
                "engine": self.name, "file": transforms.name}) from None
        if frames == 0:
            raise EngineError(_("%(engine)s: preprocessing found no usable frames in the video.") % {
                "engine": self.name})
        return frames

    def expect(self, path: Path, stage: str, runner: _StageRunner) -> None:
        if path.exists():
            return
        reason = meaningful_error(runner.last_lines)
        values = {"engine": self.name, "stage": stage, "file": path.name, "reason": reason}
        if reason:
            raise EngineError(_("%(engine)s %(stage)s did not produce %(file)s: %(reason)s") % values)
        raise EngineError(_("%(engine)s %(stage)s did not produce %(file)s") % values)

    # ----- rendering -----------------------------------------------------------------

    def _training_data_missing(self, manifest: dict, folder: Path, gpu: str) -> str:
        trained_on = manifest.get("trained_on")
        if (isinstance(trained_on, dict) and trained_on.get("host") not in (None, socket.gethostname())
                and trained_on.get("gpu") != gpu):  # on that GPU already: its host was replaced, the data went
            return _("%(engine)s: the avatar's training data is in the checkout of host %(host)s, where it was "
                     "trained: render it with gpu_choice=%(gpu)s.") % {
                "engine": self.name, "host": trained_on["host"], "gpu": trained_on.get("gpu")}
        return _("%(engine)s: the training data %(folder)s is gone; train it again.") % {
            "engine": self.name, "folder": folder}

    def render(self, job: RenderJob, progress) -> None:
        self.check_available()
        manifest = job.manifest
        asr = manifest["asr_model"]
        # Both become paths: plain names only (a manifest may come from an uploaded archive).
        for key in ("data_id", "workspace"):
            if not re.fullmatch(r"[A-Za-z0-9_-]+", str(manifest.get(key, ""))):
                raise EngineError(_("%(engine)s: the avatar's manifest has an unusable %(key)s %(value)r.") % {
                    "engine": self.name, "key": key, "value": manifest.get(key)})
        data_rel = f"data/{manifest['data_id']}"
        checkpoints = job.avatar_dir / manifest["workspace"] / "checkpoints"
        if not checkpoints.is_dir():
            raise EngineError(_("%(engine)s: the avatar has no checkpoints in %(folder)s; train it again.") % {
                "engine": self.name, "folder": checkpoints})
        if not (self.home / data_rel).is_dir():
            raise EngineError(self._training_data_missing(manifest, self.home / data_rel, job.gpu))
        # A workspace of its own per render, sharing the trained checkpoints: two renders of one
        # avatar at once (two GPUs) must not write into the same results folder.
        workspace = job.work_dir / "workspace"
        workspace.mkdir(parents=True, exist_ok=True)
        (workspace / "checkpoints").symlink_to(checkpoints.resolve(), target_is_directory=True)
        runner = _StageRunner(self, job.gpu, job.work_dir)

        # Its own name: the speech itself may already be work_dir/speech.wav (generation/renderer.py).
        wav = to_wav(job.audio_wav, job.work_dir / "drive_16k.wav", rate=16000)
        command, aud = self.feature_args(wav, asr)
        if command is not None:
            runner.run(Stage("features", command), progress.scaled(0, 15), _("audio features"))
            self.expect(aud, _("audio feature extraction"), runner)
        runner.run(Stage("render", self.render_args(data_rel, str(workspace), aud, manifest)),
                   progress.scaled(15, 90), _("rendering"))
        video = self._result_video(workspace / "results", runner)
        progress(92, _("encoding for browsers"))
        # Upstream's own muxed video keeps its track; otherwise (ER-NeRF, always) the speech goes in.
        audio = video if probe(video).has_audio else job.audio_wav
        mux_browser_mp4(video, audio, job.output_mp4, fps=FPS)
        progress(100, _("rendered"))

    def _result_video(self, results: Path, runner: _StageRunner) -> Path:
        """``ngp_ep{E:04d}.mp4`` (or SyncTalk's ``…_audio.mp4``) of the latest epoch: never a depth video."""
        found: dict[int, dict[str, Path]] = {}
        for path in results.glob("ngp_ep*.mp4") if results.is_dir() else []:
            match = re.fullmatch(r"ngp_ep(\d{4,})(_audio)?\.mp4", path.name)
            if match:
                found.setdefault(int(match.group(1)), {})["audio" if match.group(2) else "video"] = path
        if not found:
            reason = meaningful_error(runner.last_lines)
            if reason:
                raise EngineError(_("%(engine)s rendering wrote no video: %(reason)s") % {
                    "engine": self.name, "reason": reason})
            raise EngineError(_("%(engine)s rendering wrote no video") % {"engine": self.name})
        latest = found[max(found)]
        return latest.get("audio") or latest["video"]


class _StageRunner:
    """Runs one engine's stages in its checkout on the chosen GPU, each with a full log file."""

    def __init__(self, engine: NeRFEngine, gpu: str, log_dir: Path):
        self.engine = engine
        self.log_dir = log_dir
        # PCI order: CUDA's own ("fastest first") may number mixed GPUs unlike NVML and nvidia-smi,
        # which the status page and GPU_DEVICES go by.
        devices = cuda_device_index(gpu)
        if missing := missing_cuda_devices(devices):
            raise EngineError(_("%(engine)s: this host has no GPU %(devices)s for %(gpu)s; "
                                "set GPU_DEVICES on it (e.g. GPU_DEVICES=%(gpu)s=0) to the GPU that serves %(gpu)s.") % {
                "engine": engine.name, "devices": ", ".join(missing), "gpu": gpu})
        self.env = {"CUDA_DEVICE_ORDER": "PCI_BUS_ID",
                    **engine_environment(CUDA_VISIBLE_DEVICES=devices, PYTHONUNBUFFERED="1")}
        # Upstream's process.py starts its helper scripts as os.system("python …"): that must be the
        # engine's interpreter (its conda env), not whatever python the worker's PATH holds.
        interpreter = shutil.which(engine.python) or engine.python
        self.env["PATH"] = os.pathsep.join([str(Path(interpreter).parent), self.env.get("PATH", os.defpath)])
        self.last_lines: deque[str] = deque()
        self.count = 0

    def run(self, stage: Stage, progress, label: str) -> None:
        self.count += 1
        monitor = StageMonitor(progress, f"{self.engine.name} {label}")
        self.last_lines = monitor.tail
        progress(0, f"{self.engine.name} {label}")
        log_path = self.log_dir / f"{self.count:02d}_{stage.name}.log"
        try:
            run_command(
                [stage.program or self.engine.python, *stage.args], cwd=self.engine.home, env=self.env,
                on_line=monitor, should_cancel=progress.should_cancel, log_path=log_path,
            )
        except CommandCancelled:
            raise JobCancelled() from None
        except CommandFailed as exc:
            reason = meaningful_error(list(monitor.tail) or exc.tail) or _("exit code %(code)s") % {
                "code": exc.returncode}
            raise EngineError(_("%(engine)s %(stage)s failed: %(reason)s") % {
                "engine": self.engine.name, "stage": STAGE_WORDS.get(stage.name, stage.name), "reason": reason}) from None
        except FileNotFoundError:
            program = stage.program or self.engine.python
            raise EngineError(_("%(engine)s: cannot start %(program)s.") % {
                "engine": self.engine.name, "program": program}) from None
        progress(100, _("%(step)s: done") % {"step": f"{self.engine.name} {label}"})


def _iters(args: list[str]) -> str:
    return args[args.index("--iters") + 1]
