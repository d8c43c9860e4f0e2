"""Making a talking-head video: speech in a cloned voice, rendered by the avatar's engine."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.errors import ApiError, Conflict
from avatar_site.lib.uploads import is_upload
from monitoring.models import Task
from training.archive import import_avatar
from training.engines import get_talking_head_engine
from training.engines.base import EngineError, RenderJob
from training.models import Avatar
from voices.cloning import speak
from voices.models import Speaker


def video_output_path(prefix: str) -> Path:
    return settings.MEDIA_ROOT / "videos" / f"{prefix}_{uuid.uuid4().hex[:12]}.mp4"


def may_read_video(user, relative: PurePosixPath) -> bool:
    """A video one of the user's tasks rendered (videos/…)."""
    return Task.objects.visible_to(user).filter(result__video_path="/video/" + "/".join(relative.parts[1:])).exists()


def video_url(path: Path) -> str:
    return "/video/" + path.relative_to(settings.MEDIA_ROOT / "videos").as_posix()


def resolve_render_inputs(user, model_name: str, model_param: str, ref_audio_id: str, queue: str, *,
                          text_given: bool):
    """The avatar and speaker a render request names, checked against its engine (run on ``queue``);
    4xx/503 otherwise. ``text_given``: whether there is text to speak (a chat turn's reply always is).

    An uploaded avatar archive is imported last, once nothing else can refuse the request here
    (the caller discards it with ``discard_if_imported`` when a later check does).
    """
    speaker = Speaker.objects.visible_to(user).get_ready(ref_audio_id, "ref_audio_id")
    avatar = None
    if not is_upload(model_param):
        # First: an avatar of another engine is the client's mistake (400), whether or not this
        # site can run the engine it named (503).
        avatar = Avatar.objects.visible_to(user).get_by_model_param(model_param)
        if avatar.status != Avatar.Status.READY:
            raise Conflict(_("model_param: avatar %(id)s is not ready (%(status)s).")
                           % {"id": avatar.id, "status": _(avatar.get_status_display())})
        if avatar.engine != model_name:
            raise ApiError(_("model_param: avatar %(id)s was trained with %(engine)s, not %(model_name)s.")
                           % {"id": avatar.id, "engine": avatar.engine, "model_name": model_name})
    engine = get_talking_head_engine(model_name, queue)
    if not text_given and not engine.text_optional:
        raise ApiError(_("target_text: required for %(model_name)s.") % {"model_name": model_name})
    if avatar is None:
        return import_avatar(model_param, model_name, user, queue), speaker
    return avatar, speaker


@contextmanager
def discard_if_imported(avatar: Avatar):
    """Delete the avatar imported from this request's archive if the request fails after all
    (not one an earlier request imported from the same archive)."""
    try:
        yield
    except BaseException:
        if getattr(avatar, "imported_now", False):
            avatar.delete()
        raise


def render_speech(
    avatar: Avatar, speaker: Speaker, text: str, gpu: str, output: Path, progress, timings: dict | None = None
) -> Path:
    """Speak ``text`` (or, when empty, play the speaker's reference) through ``avatar`` into ``output``.

    ``timings``, when given, receives the seconds spent on speech ("tts") and video ("render").
    """
    timings = {} if timings is None else timings
    engine = get_talking_head_engine(avatar.engine)
    manifest = avatar.read_manifest()
    if not manifest:
        raise EngineError(_("Avatar %(id)s has no readable manifest; train it again.") % {"id": avatar.id})
    # Named after the output (which starts with the task id): Task.remove_scratch finds it.
    work_dir = Path(tempfile.mkdtemp(prefix=f"{output.stem}_", dir=_scratch_dir()))
    try:
        started = time.monotonic()
        if text:
            audio = speak(speaker, text, work_dir / "speech.wav", progress.scaled(0, 30))
        else:
            if speaker.reference_path is None or not speaker.reference_path.exists():
                raise EngineError(_("Speaker %(id)s has no reference recording to render.") % {"id": speaker.id})
            audio = speaker.reference_path
        timings["tts"] = round(time.monotonic() - started, 3)
        progress(30, _("Rendering the video"))
        started = time.monotonic()
        partial = output.with_name(f".{output.stem}.partial.mp4")
        output.parent.mkdir(parents=True, exist_ok=True)
        engine.render(
            RenderJob(avatar_dir=avatar.folder, manifest=manifest, audio_wav=audio, output_mp4=partial,
                      work_dir=work_dir, gpu=gpu),
            progress.scaled(30, 100),
        )
        progress.check_cancelled(force=True)  # asked meanwhile: an engine may never have looked
        shutil.move(partial, output)
        timings["render"] = round(time.monotonic() - started, 3)
        return output
    finally:
        output.with_name(f".{output.stem}.partial.mp4").unlink(missing_ok=True)
        shutil.rmtree(work_dir, ignore_errors=True)


def _scratch_dir() -> Path:
    scratch = settings.MEDIA_ROOT / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch
