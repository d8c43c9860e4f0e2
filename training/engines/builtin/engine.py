"""The built-in CPU talking head: learns audio → mouth shape from one reference video, renders by mouth transplant."""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.audio import speech_level_dbfs
from avatar_site.lib.media import MediaError, display_filters, probe, run_ffmpeg, to_wav
from training.engines.base import EngineError, RenderJob, TrainingJob
from training.engines.builtin import AVATAR_FILES, DEFAULTS, BuiltinTalkingHead, faces, features
from training.engines.builtin.compositor import (
    MouthPaster,
    VideoWriter,
    feathered_mask,
    ping_pong,
    select_mouths,
    smooth,
)
from training.engines.builtin.mouth_model import (
    MouthBasis,
    lip_opening,
    lip_shapes,
    load_net,
    predict,
    save_net,
    train_mouth_net,
)

VERSION = 2  # 2: codes describe centred lip shapes; linear (ridge) model by default
FPS = 25
DETECT_SIDE = 640  # frames are scaled to at most this for the first, face-finding pass
HELD_OUT = 0.2  # the tail of the video kept out of training to measure generalisation
CODES = 8
MIN_SIZE = 64
#: Below this the loudest 0.3 s of the reference are no speech (a muted microphone, a track of
#: digital silence): there is nothing to learn the mouth from.
SILENT_DBFS = -55.0

logger = logging.getLogger(__name__)


def mouth_codes(net, windows: np.ndarray, pauses: np.ndarray, rest: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Predicted mouth codes per frame: the network's, smoothed, drawn to the resting mouth in pauses.

    ``gain`` widens the predicted motion: version-1 avatars stored one measured on held-out frames;
    version 2 stores 1 (widening made held-out LMD worse once the model was a ridge regression).
    """
    predicted = smooth(predict(net, windows)) * gain
    return predicted + pauses[:, None] * (rest[None, :] - predicted)


def head_poses(tracks) -> np.ndarray:
    """Per frame, how the stable face points deviate from the canonical head after alignment (turns, nods)."""
    points = tracks["landmarks"][:, faces.STABLE]
    transforms = tracks["transforms"]
    aligned = np.einsum("npk,njk->npj", points, transforms[:, :, :2]) + transforms[:, None, :, 2]
    return (aligned - tracks["canonical"][None]).reshape(len(points), -1).astype(np.float32)


@dataclass
class MouthPlan:
    """What rendering a recording will show, before any pixel is drawn."""

    tracks: dict
    predicted: np.ndarray  # mouth code per output frame
    base_range: tuple[int, int]  # the reference frames the idle motion loops over
    base_index: np.ndarray  # base frame per output frame
    chosen: np.ndarray  # reference frame whose mouth each output frame shows


def plan_mouths(avatar: Path, manifest: dict, samples: np.ndarray, steps: int) -> MouthPlan:
    with np.load(avatar / "tracks.npz") as archive:
        tracks = dict(archive)
    net = load_net(avatar / "mouth_net.pt")
    windows = features.frame_windows(features.log_mel(samples), steps, net.config["window"])
    predicted = mouth_codes(net, windows, features.pause_weights(samples, steps), tracks["rest"], float(tracks["gain"]))
    valid = tracks["valid"]
    candidates = np.flatnonzero(valid)
    # The manifest may come from an uploaded archive: these frames are decoded into memory.
    base_frames = manifest.get("base_frames", [0, int(valid.sum())])
    try:
        start, end = (int(value) for value in base_frames)
        usable = 0 <= start < end <= len(valid) and end - start <= settings.BUILTIN_TH_BASE_SECONDS * FPS + 1
    except (TypeError, ValueError):
        usable = False
    if not usable:
        raise EngineError(_("The avatar's manifest has unusable base_frames %(value)r; train it again.") % {
            "value": base_frames})
    base_index = ping_pong(start, end, steps)
    with np.load(avatar / "mouth_basis.npz") as basis:
        poses = head_poses(tracks) / float(basis["scale"])
    chosen = select_mouths(predicted, candidates, tracks["codes"][candidates], poses[base_index], poses[candidates])
    return MouthPlan(tracks, predicted, (int(start), int(end)), base_index, chosen)


@contextlib.contextmanager
def _damaged_avatar_as_engine_error(avatar: Path):
    """An avatar's files that do not fit together (an uploaded archive may hold any arrays, a disk
    may corrupt them) fail the render with a message, not as an internal error."""
    try:
        yield
    except (KeyError, ValueError, IndexError, TypeError, RuntimeError, EOFError, zipfile.BadZipFile,
            pickle.UnpicklingError, cv2.error) as exc:
        logger.warning("Avatar %s cannot be rendered", avatar, exc_info=True)
        raise EngineError(_("The avatar's files are damaged or do not fit together (%(error)s); train it again.")
                          % {"error": type(exc).__name__}) from None


class MouthTransplant:
    """The engine's work: train and render (the light BuiltinTalkingHead in __init__ delegates here)."""

    # ---------------------------------------------------------------- training

    def train(self, job: TrainingJob, progress) -> dict:
        started = time.monotonic()
        job.avatar_dir.mkdir(parents=True, exist_ok=True)
        build = Path(job.avatar_dir) / ".building"
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir()
        try:
            manifest = self._train(job, build, progress)
            manifest["training_seconds"] = round(time.monotonic() - started, 1)
            (build / "manifest.json").write_text(json.dumps(manifest, indent=2))
            for item in build.iterdir():
                shutil.move(str(item), str(Path(job.avatar_dir) / item.name))
            build.rmdir()
            return manifest
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise

    def _train(self, job: TrainingJob, out: Path, progress) -> dict:
        params = {**DEFAULTS, **job.params}
        if params["model"] == "cnn" and "window" not in job.params:
            params["window"] = 32  # what the CNN was tuned with (its strides want a longer window)
        size = settings.BUILTIN_TH_SIZE
        info = self._check_source(job.source_video)
        progress(1, _("Finding the face"))
        crop = self._find_face(job.source_video, info, progress)
        progress(15, _("Normalising the video"))
        frames_mp4 = out / "frames.mp4"
        samples = self._normalise(job.source_video, info, crop, size, frames_mp4, out / "audio.wav")

        progress(20, _("Tracking the face"))
        landmarks, valid = self._track(frames_mp4, size, progress)
        frames = min(len(landmarks), len(samples) // (features.SAMPLE_RATE // FPS))
        if frames < len(landmarks) - FPS and hasattr(progress, "log"):  # a track cut short: say what is used
            progress.log(f"the audio ends at {frames / FPS:.1f} s of {len(landmarks) / FPS:.1f} s of video: "
                         "training on the part with sound")
        landmarks, valid = landmarks[:frames], valid[:frames]
        if valid.sum() < max(FPS, 0.5 * frames):
            raise EngineError(_("The face could not be tracked in most frames of the reference video."))
        transforms, canonical = faces.align(landmarks, valid)
        valid &= self._pose_ok(landmarks, transforms, canonical, valid)
        mouth_points = np.stack([faces.apply(transforms[i], landmarks[i, faces.MOUTH]) for i in range(frames)])

        progress(35, _("Cutting mouth patches"))
        origin, mask = self._mouth_region(mouth_points[valid])
        self._cut_mouths(frames_mp4, size, transforms, valid, origin, mask.shape, out / "mouths.mp4")

        progress(40, _("Learning audio to mouth shapes"))
        basis = MouthBasis.fit(mouth_points[valid], CODES)
        codes = basis.encode(mouth_points)
        window = int(params["window"])
        windows = features.frame_windows(features.log_mel(samples), frames, window)
        usable = np.flatnonzero(valid)
        split = int(len(usable) * (1 - HELD_OUT))
        train_index, held_index = usable[:split], usable[split:]
        epochs = max(1, int(job.epochs))

        net, history = self._fit(windows, codes, train_index, held_index, epochs, params, progress)
        save_net(net, out / "mouth_net.pt")
        np.savez(out / "mouth_basis.npz", **basis.to_dict())
        rest = self._rest_code(codes, mouth_points, train_index)
        pauses = features.pause_weights(samples, frames)
        # No gain over the predictions any more: widening the predicted motion (tried up to 1.6×)
        # made held-out LMD worse; the speech/silence contrast comes from the pause gate.
        gain = 1.0
        scores = self._held_out_scores(net, basis, windows, pauses, rest, gain, mouth_points, held_index, train_index)
        base_start, base_end = self._base_range(valid)
        np.savez_compressed(out / "tracks.npz", landmarks=landmarks, valid=valid, transforms=transforms,
                            canonical=canonical, codes=codes, mouth_points=mouth_points, mask=mask, rest=rest, gain=np.float32(gain),
                            origin=np.array(origin))
        progress(99, _("Saved the avatar"))
        return {
            "engine": "builtin", "version": VERSION, "fps": FPS, "size": size, "frames": int(frames),
            "tracked_frames": int(valid.sum()), "train_frames": int(len(train_index)),
            "held_out_frames": int(len(held_index)), "epochs": epochs, "params": params,
            "losses": [h["train"] for h in history], "held_out_losses": [h["held_out"] for h in history],
            "scores": scores, "base_frames": [int(base_start), int(base_end)], "crop": list(map(int, crop)),
            "files": list(AVATAR_FILES),
        }

    @staticmethod
    def _normalise(source: Path, info, crop, size: int, frames_mp4: Path, audio_wav: Path):
        """The face crop at 25 fps and BUILTIN_TH_SIZE², as a player shows the video (rotation,
        square pixels, SDR colours), and its 16 kHz audio, which must be long enough and not silent."""
        x, y, side = crop
        try:
            run_ffmpeg(["-i", str(source), "-an", "-vf",
                        ",".join([f"fps={FPS}", *display_filters(info), f"crop={side}:{side}:{x}:{y}",
                                  f"scale={size}:{size}:flags=lanczos"]),
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "14", "-pix_fmt", "yuv420p",
                        str(frames_mp4)])
            to_wav(source, audio_wav, in_sync=True)
        except MediaError as error:
            raise EngineError(_("Could not normalise the reference video: %(error)s") % {"error": error}) from None
        samples = features.read_wav(audio_wav)
        audio_seconds = len(samples) / features.SAMPLE_RATE
        if audio_seconds < settings.BUILTIN_TH_MIN_SECONDS:
            raise EngineError(_("The reference video's audio lasts %(seconds).1f s; "
                                "at least %(minimum)g s of it are needed.") % {
                "seconds": audio_seconds, "minimum": settings.BUILTIN_TH_MIN_SECONDS})
        if (loudest := speech_level_dbfs(samples, features.SAMPLE_RATE)) < SILENT_DBFS:
            raise EngineError(_("The reference video's audio is silent (its loudest moment is %(dbfs).0f dBFS): "
                                "the avatar learns its mouth from the person's speech, so send a video with "
                                "their voice.") % {"dbfs": max(loudest, -120)})
        return samples

    @staticmethod
    def _fit(windows, codes, train_index, held_index, epochs: int, params: dict, progress):
        """The audio → mouth-code model, reporting train and held-out loss per epoch."""
        last_message = [0.0]

        def on_epoch(epoch: int, train_loss: float, held_loss: float) -> None:
            if hasattr(progress, "log"):
                progress.log(f"epoch {epoch}: train {train_loss:.5f} held-out {held_loss:.5f}")
            percent = 40 + 55 * epoch / epochs
            # A message is written to the task at once; epochs take ~0.03 s, so say it at most
            # twice a second (and at the last epoch), not one database write per epoch.
            if epoch < epochs and time.monotonic() - last_message[0] < 0.5:
                progress(percent)
                return
            last_message[0] = time.monotonic()
            progress(percent,
                     _("epoch %(epoch)s/%(epochs)s: train loss %(train_loss).4f, held-out loss %(held_loss).4f") % {
                         "epoch": epoch, "epochs": epochs, "train_loss": train_loss, "held_loss": held_loss})

        # The net is tiny: one thread beats several (measured 0.035 s vs 0.88 s per epoch on 2 busy cores).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return train_mouth_net(windows, codes, train_index, held_index, epochs, float(params["lr"]),
                                   int(params["batch_size"]), int(params["hidden"]), on_epoch,
                                   kind=str(params["model"]), ridge=float(params["ridge"]))
        finally:
            torch.set_num_threads(threads)

    def _check_source(self, path: Path):
        try:
            info = probe(Path(path))
        except MediaError as error:
            raise EngineError(_("The reference is not a readable video: %(error)s") % {"error": error}) from None
        if not info.has_video or info.width == 0:
            raise EngineError(_("The reference file has no video stream."))
        BuiltinTalkingHead().check_reference(info)
        return info

    def _find_face(self, path: Path, info, progress) -> tuple[int, int, int]:
        """A square crop (x, y, side in source pixels) around the face, the same for every frame."""
        scale = min(1.0, DETECT_SIDE / max(info.width, info.height))
        width, height = max(2, int(info.width * scale) // 2 * 2), max(2, int(info.height * scale) // 2 * 2)
        counts, boxes = [], []
        with faces.FaceTracker(max_faces=2) as tracker:
            for index, frame in enumerate(faces.read_frames(path, width, height, ",".join(display_filters(info)))):
                found = tracker.faces(frame)
                counts.append(len(found))
                if len(found) == 1:
                    points = found[0]
                    boxes.append([*points.min(0), *points.max(0)])
                if index % 50 == 0:
                    progress(1 + 14 * min(1.0, index / max(1.0, info.duration * FPS)))
        counts = np.array(counts)
        if len(counts) == 0:
            raise EngineError(_("No frames could be decoded from the reference video."))
        single, several, none = (counts == 1).mean(), (counts >= 2).mean(), (counts == 0).mean()
        if single < 0.5:
            if several > none:
                raise EngineError(_("Several faces are visible in %(percent).0f%% of the reference video's frames; "
                                    "it needs exactly one person.") % {"percent": several * 100})
            raise EngineError(_("No face was found in %(percent).0f%% of the reference video's frames; "
                                "film one face looking at the camera.") % {"percent": none * 100})
        x0, y0, x1, y1 = np.median(np.array(boxes), axis=0) / scale
        # The mesh spans brow to chin; 1.9× leaves hair, neck and some background, like a portrait.
        side = min(int(1.9 * max(x1 - x0, y1 - y0)), info.width, info.height) // 2 * 2
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.05 * (y1 - y0)
        x = int(np.clip(cx - side / 2, 0, info.width - side))
        y = int(np.clip(cy - side / 2, 0, info.height - side))
        return x, y, side

    def _track(self, frames_mp4: Path, size: int, progress) -> tuple[np.ndarray, np.ndarray]:
        landmarks, valid = [], []
        with faces.FaceTracker(max_faces=1) as tracker:
            for index, frame in enumerate(faces.read_frames(frames_mp4, size, size)):
                found = tracker.faces(frame)
                valid.append(bool(found))
                landmarks.append(found[0] if found else np.zeros((468, 2), np.float32))
                if index % 50 == 0:
                    progress(20 + min(14.0, index / 50))
        return np.array(landmarks, np.float32), np.array(valid, bool)

    @staticmethod
    def _pose_ok(landmarks, transforms, canonical, valid) -> np.ndarray:
        """Drop frames whose stable points fit the canonical head badly (tracking glitches, turned head)."""
        error = np.zeros(len(landmarks))
        for i in np.flatnonzero(valid):
            error[i] = np.abs(faces.apply(transforms[i], landmarks[i, faces.STABLE]) - canonical).mean()
        limit = np.median(error[valid]) * 3 + 1.0
        return error <= limit

    @staticmethod
    def _mouth_region(points: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
        """Patch origin (canonical px) and a feathered mask covering every lip and jaw position seen."""
        flat = points.reshape(-1, 2)
        low, high = flat.min(0), flat.max(0)
        width = float(high[0] - low[0])
        margin = 0.25 * width  # the grown, feathered mask fades out within it
        x0, y0 = np.floor(low - margin).astype(int)
        x1, y1 = np.ceil(high + margin).astype(int)
        x1, y1 = x1 + (x1 - x0) % 2, y1 + (y1 - y0) % 2  # even sides for the video codec
        mask = feathered_mask(flat - (x0, y0), (int(y1 - y0), int(x1 - x0)), grow=0.06 * width, feather=0.06 * width)
        return (int(x0), int(y0)), mask

    @staticmethod
    def _cut_mouths(frames_mp4, size, transforms, valid, origin, shape, target: Path) -> None:
        """Each frame's mouth region in the canonical head pose, as a video (black where untracked)."""
        height, width = shape
        writer = VideoWriter(target, width, height, archive=True)
        blank = np.zeros((height, width, 3), np.uint8)
        written = 0
        try:
            for i, frame in enumerate(faces.read_frames(frames_mp4, size, size)):
                if i >= len(valid):
                    break
                patch = blank
                if valid[i]:
                    matrix = transforms[i].copy()
                    matrix[:, 2] -= origin
                    patch = cv2.warpAffine(frame, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                           borderMode=cv2.BORDER_REPLICATE)
                writer.write(patch)
                written += 1
        except BaseException:
            writer.abort()
            raise
        error = writer.close()
        if error or written < len(valid):
            if error:
                raise EngineError(_("Could not store the mouth patches: %(error)s") % {"error": error})
            raise EngineError(_("Could not store the mouth patches: frames missing"))

    @staticmethod
    def _rest_code(codes, mouth_points, train_index) -> np.ndarray:
        """The mouth at rest: the mean shape of the most closed quarter of the training frames.

        (Frames in the reference's own pauses were tried first, but people often pause with the
        mouth open, mid-thought: with that, one reference opened her mouth in every pause. The most
        closed tenth was tried next: pauses then closed firmly, but held-out LMD was worse than with
        a quarter, and speech/silence separation the same.)
        """
        opening = faces.mouth_opening(mouth_points[train_index])
        return codes[train_index[opening <= np.percentile(opening, 25)]].mean(0).astype(np.float32)

    @staticmethod
    def _held_out_scores(net, basis, windows, pauses, rest, gain, mouth_points, held_index, train_index) -> dict:
        if len(held_index) < 5:
            return {}
        # Centred lip shapes, as the bench measures LMD (here on the engine's own tracks, canonical pixels).
        predicted = basis.decode(mouth_codes(net, windows[held_index], pauses[held_index], rest, gain))
        truth = lip_shapes(mouth_points[held_index])
        lmd = float(np.linalg.norm(predicted - truth, axis=-1).mean())
        closed = lip_shapes(mouth_points[train_index[np.argmin(faces.mouth_opening(mouth_points[train_index]))]])
        still = float(np.linalg.norm(closed[None] - truth, axis=-1).mean())
        opening_true, opening_pred = lip_opening(truth), lip_opening(predicted)
        # No correlation to speak of when either side holds still (a tail of silence: the mouth
        # predicted closed throughout); corrcoef would answer NaN, which JSON cannot store.
        varies = opening_true.std() > 1e-9 and opening_pred.std() > 1e-9
        r = round(float(np.corrcoef(opening_true, opening_pred)[0, 1]), 3) if varies else None
        return {"held_out_lmd": round(lmd, 3), "still_lmd": round(still, 3),
                "lmd_ratio": round(lmd / still, 3) if still else None, "opening_r": r}

    @staticmethod
    def _base_range(valid: np.ndarray) -> tuple[int, int]:
        """The longest run of tracked frames, at most BUILTIN_TH_BASE_SECONDS long: the idle motion loop."""
        best, start = (0, 0), None
        for i, ok in enumerate([*valid, False]):
            if ok and start is None:
                start = i
            elif not ok and start is not None:
                if i - start > best[1] - best[0]:
                    best = (start, i)
                start = None
        limit = int(settings.BUILTIN_TH_BASE_SECONDS * FPS)
        return best[0], min(best[1], best[0] + limit)

    # ---------------------------------------------------------------- rendering

    def render(self, job: RenderJob, progress) -> None:
        avatar = Path(job.avatar_dir)
        missing = BuiltinTalkingHead().missing_files(avatar, job.manifest)
        if missing:
            raise EngineError(_("The avatar is incomplete (missing %(files)s); train it again.") % {
                "files": ", ".join(missing)})
        size = job.manifest.get("size", settings.BUILTIN_TH_SIZE)
        if not isinstance(size, int) or not MIN_SIZE <= size <= max(settings.BUILTIN_TH_SIZE, 512):
            raise EngineError(_("The avatar's manifest has an unusable frame size %(size)r; train it again.") % {
                "size": size})
        speech = Path(job.work_dir) / "speech_16k.wav"
        try:
            to_wav(Path(job.audio_wav), speech)
        except MediaError as error:
            raise EngineError(_("The speech audio is unreadable: %(error)s") % {"error": error}) from None
        samples = features.read_wav(speech)
        steps = max(1, int(round(len(samples) / (features.SAMPLE_RATE / FPS))))
        progress(2, _("Predicting mouth shapes"))

        with _damaged_avatar_as_engine_error(avatar):
            plan = plan_mouths(avatar, job.manifest, samples, steps)
            tracks, base_index, chosen = plan.tracks, plan.base_index, plan.chosen
            start, end = plan.base_range
            progress(8, _("Loading the reference frames"))
            base_frames = []
            for i, frame in enumerate(faces.read_frames(avatar / "frames.mp4", size, size)):
                if i >= end:
                    break
                if i >= start:
                    base_frames.append(frame)
            if len(base_frames) < end - start:
                raise EngineError(_("The avatar's frames are damaged; train it again."))
            mouths = self._load_mouths(avatar / "mouths.mp4", tracks["mask"].shape, set(chosen.tolist()))
            paster = MouthPaster(tracks["mask"], tuple(int(v) for v in tracks["origin"]))
            transforms = tracks["transforms"]
            outlines = tracks["landmarks"][:, faces.FACE_OVAL]

            writer = VideoWriter(Path(job.output_mp4), size, size, audio=speech)
            try:
                for t in range(steps):
                    b = int(base_index[t])
                    frame = paster.paste(base_frames[b - start], transforms[b], mouths[int(chosen[t])], outlines[b])
                    writer.write(frame)
                    if t % 25 == 0:
                        progress(10 + 88 * t / steps,
                              _("frame %(frame)s/%(total)s") % {"frame": t, "total": steps})
            except BaseException:
                writer.abort()
                raise
        error = writer.close()
        if error:
            raise EngineError(_("Encoding the video failed: %(error)s") % {"error": error.splitlines()[-1]})
        progress(100, _("Rendered"))

    @staticmethod
    def _load_mouths(path: Path, shape, needed: set[int]) -> dict[int, np.ndarray]:
        """Decode the mouth patches the chosen path uses (only those are kept in memory)."""
        height, width = shape
        mouths, last = {}, max(needed)
        for i, patch in enumerate(faces.read_frames(path, width, height)):
            if i in needed:
                mouths[i] = patch.copy()
            if i >= last:
                break
        if len(mouths) < len(needed):
            raise EngineError(_("The avatar's mouth patches are damaged; train it again."))
        return mouths
