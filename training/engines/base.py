"""The interface every talking-head engine implements: it trains avatars and renders them."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avatar_site.lib.media import MediaInfo
from monitoring.errors import JobFailed

#: custom_params' types in the reader's words.
TYPE_WORDS = {
    int: gettext_lazy("whole number"),
    float: gettext_lazy("number"),
    bool: gettext_lazy("true/false value"),
    str: gettext_lazy("text"),
}

class EngineError(JobFailed):
    """A training or rendering failure with a message for the user."""


@dataclass
class TrainingJob:
    avatar_id: str
    source_video: Path
    avatar_dir: Path
    epochs: int
    params: dict = field(default_factory=dict)
    gpu: str = "GPU0"


@dataclass
class RenderJob:
    avatar_dir: Path
    manifest: dict
    audio_wav: Path
    output_mp4: Path
    work_dir: Path
    gpu: str = "GPU0"


class TalkingHeadEngine(ABC):
    name = ""
    #: custom_params keys this engine accepts, with the type each value is converted to.
    allowed_params: dict[str, type] = {}
    #: Whether rendering an empty target_text may use the speaker's reference recording.
    text_optional = True
    #: The files of an avatar folder (besides manifest.json) that an uploaded avatar archive
    #: brings; nothing else in an archive is unpacked. Empty: this engine's avatars cannot be
    #: uploaded.
    archive_files: tuple[str, ...] = ()

    def check_available(self) -> None:
        """Raise avatar_site.lib.engines.EngineUnavailable when the engine cannot run here."""

    #: Whether the engine keeps a folder per avatar outside the media folder (``training_data``),
    #: on the host that trained it.
    keeps_training_data = False

    def training_data(self, avatar_id: str) -> Path | None:
        """A folder outside the avatar's own that belongs to it (deleted with it), if any; None
        also where this host has no such folder (no checkout: the web host)."""
        return None

    def check_reference(self, info: MediaInfo) -> None:
        """Raise EngineError when a (probed) reference video cannot train this engine: checked as
        the request comes, so it is refused at once, and again when the job runs."""
        if not info.has_audio:
            raise EngineError(
                _("The reference video has no audio track; the avatar learns its mouth from the speech."))

    def missing_files(self, avatar_dir: Path, manifest: dict) -> list[str]:
        """What rendering needs that ``avatar_dir`` lacks (checked when an archive is imported)."""
        return [name for name in self.archive_files if not (avatar_dir / name).is_file()]

    def validate_params(self, params: dict) -> dict:
        """Whitelist and convert custom_params; raise ValueError with the reason."""
        unknown = sorted(set(params) - set(self.allowed_params))
        if unknown:
            values = {"keys": ", ".join(unknown), "engine": self.name, "allowed": ", ".join(sorted(self.allowed_params))}
            if not self.allowed_params:
                raise ValueError(_("unknown key(s) %(keys)s; %(engine)s accepts: none") % values)
            raise ValueError(_("unknown key(s) %(keys)s; %(engine)s accepts: %(allowed)s") % values)
        converted = {}
        for key, value in params.items():
            kind = self.allowed_params[key]
            try:
                if kind in (int, float) and isinstance(value, bool):
                    raise ValueError  # JSON true is not the number 1
                if kind is int and isinstance(value, float) and not value.is_integer():
                    raise ValueError  # 32.9 is not quietly 32
                if kind is bool and isinstance(value, str):
                    if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                        raise ValueError
                    converted[key] = value.lower() in ("1", "true", "yes")
                elif kind is bool and value not in (True, False):  # JSON true/false, 0 or 1: not 5, 0.5, null
                    raise ValueError
                else:
                    converted[key] = kind(value)
                if kind is float and not math.isfinite(converted[key]):
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                raise ValueError(_("%(key)s=%(value)r is not a valid %(type)s") % {
                    "key": key, "value": value, "type": TYPE_WORDS.get(kind, kind.__name__)}) from None
        return converted

    @abstractmethod
    def train(self, job: TrainingJob, progress) -> dict:
        """Train into ``job.avatar_dir`` and return the manifest; the trainer writes it, with what it
        adds, as the avatar's manifest.json (Avatar.write_manifest)."""

    @abstractmethod
    def render(self, job: RenderJob, progress) -> None:
        """Render ``job.audio_wav`` into a browser-playable MP4 with that audio at ``job.output_mp4``."""
