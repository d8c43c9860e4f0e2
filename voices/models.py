from __future__ import annotations

import logging
import unicodedata
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from avatar_site.lib.errors import Conflict, NotFound
from avatar_site.lib.ownership import OwnedQuerySet
from avatar_site.lib.paths import stored_path
from avatar_site.lib.storage import remove_tree
from monitoring.models import HistoryRecord, Task

logger = logging.getLogger(__name__)

#: A generated clip is named ``<task id>_<12 hex>_<gen_audio_id>.wav`` (``.….<32 hex>.partial.wav``
#: while written): with this the name stays within the file system's 255 bytes.
VOICE_ID_MAX_BYTES = 150
# Characters of no width that \w still counts as letters (Hangul fillers) or marks (variation
# selectors, the combining grapheme joiner): an id made of them looks like another or like none.
_INVISIBLE = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F, 0x17B4, 0x17B5, *range(0x180B, 0x1810),
              *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}


def normalise_voice_id(value: str) -> str:
    """NFKC, so that what looks alike is one id: fullwidth ＡＢＣ and ABC, a Hangul word composed or
    spelled in jamo, é as one character or e and an accent."""
    return unicodedata.normalize("NFKC", value)


def speaker_id_validator(value: str) -> None:
    """Letters and digits of any script (the spec's clients name voices 说话人一; marks such as
    accents and vowel signs after the first), '_' and '-': one plain file name (the voice's
    folder, generated clips' names), never a separator, dot or space. Ids arrive NFKC-normalised."""
    fits = 0 < len(value) <= 64 and len(value.encode()) <= VOICE_ID_MAX_BYTES
    if not (fits and value == normalise_voice_id(value) and value[0].isalnum()
            and all((char.isalnum() or char in "_-" or unicodedata.category(char).startswith("M"))
                    and ord(char) not in _INVISIBLE for char in value)):
        raise ValidationError(
            _("Use 1–64 letters (of any language), digits, '_' or '-', starting with a letter or digit, "
              "at most %(bytes)s bytes in UTF-8 (50 Chinese characters).") % {"bytes": VOICE_ID_MAX_BYTES},
            code="invalid")


class SpeakerQuerySet(OwnedQuerySet):
    def ready(self) -> SpeakerQuerySet:
        return self.filter(status=Speaker.Status.READY)

    def get_ready(self, speaker_id: str, field: str) -> Speaker:
        """The voice a request's ``field`` names, ready to speak: 404 if there is none, 409 while
        it is still being cloned (or failed)."""
        speaker = self.filter(pk=normalise_voice_id(speaker_id)).first()
        if speaker is None:
            raise NotFound(_("%(field)s: no cloned voice %(speaker_id)r; see /api/cloned-audios.")
                           % {"field": field, "speaker_id": speaker_id})
        if speaker.status != Speaker.Status.READY:
            raise Conflict(_("%(field)s: the voice %(id)s is not ready (%(status)s).")
                           % {"field": field, "id": speaker.id, "status": _(speaker.get_status_display())})
        return speaker

    def reserved_for(self, task) -> SpeakerQuerySet:
        """The speaker a clone request made before submitting ``task``, still being extracted.

        Not one made later under the same audio_id (after this one was deleted or released): a
        queued clone must not fill, nor its failure delete, another request's speaker.
        """
        return self.filter(pk=task.parameters.get("audio_id"), status=Speaker.Status.EXTRACTING,
                           owner=task.owner, created_at__lte=task.created_at)

    def listed(self) -> list[dict]:
        """The spec's /api/cloned-audios items, built from plain rows: model instances (and before
        them DRF's serializer) were most of the request, and the list never reads the profiles."""
        zone = timezone.get_current_timezone()
        return [
            {
                **row,
                "created_at": row["created_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                "reference_audio": (settings.MEDIA_URL + row["reference_audio"]) if row["reference_audio"] else "unknown",
                "status": Speaker.Status(row["status"]).label,
            }
            for row in self.values("id", "name", "created_at", "reference_audio", "status", "engine")
        ]


class Speaker(models.Model):
    """A cloned voice: its reference recording and the features an engine extracted from it."""

    #: Clones and speech name it audio_id; videos and chat answers name it ref_audio_id.
    task_parameters = ("audio_id", "ref_audio_id")

    class Status(models.TextChoices):
        # The spec's labels, in Chinese whatever the language (the API lists them); messages
        # translate them (gettext_noop only marks them for the catalogues).
        EXTRACTING = "extracting", gettext_noop("提取中")
        READY = "ready", gettext_noop("已提取特征")
        FAILED = "failed", gettext_noop("提取失败")

    id = models.CharField(primary_key=True, max_length=64, validators=[speaker_id_validator])
    name = models.CharField(gettext_lazy("name"), max_length=100)
    engine = models.CharField(gettext_lazy("engine"), max_length=32)
    status = models.CharField(gettext_lazy("status"), max_length=16, choices=Status.choices, default=Status.EXTRACTING)
    reference_audio = models.CharField(gettext_lazy("reference audio"), max_length=500, blank=True,
                                       help_text=gettext_lazy("Relative to MEDIA_ROOT"))
    profile = models.JSONField(gettext_lazy("profile"), default=dict, blank=True,
                               help_text=gettext_lazy("Features and transcript the engine extracted"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=gettext_lazy("owner"))
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now)

    objects = SpeakerQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("voice")
        verbose_name_plural = gettext_lazy("voices")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or self.id

    @property
    def folder(self) -> Path:
        return stored_path(settings.MEDIA_ROOT / "voices" / "speakers", self.id)

    @property
    def reference_path(self) -> Path | None:
        return settings.MEDIA_ROOT / self.reference_audio if self.reference_audio else None

    def delete_files(self) -> None:
        remove_tree(self.folder)

    def delete(self, *args, **kwargs):
        self.delete_files()
        if self.reference_audio:  # its clone's history row would link to a file that is gone
            link = settings.MEDIA_URL + self.reference_audio
            for record in HistoryRecord.objects.filter(result__reference_audio=link):
                record.result = {**record.result, "reference_audio": None, "output_deleted": True}
                record.save(update_fields=["result"])
        return super().delete(*args, **kwargs)

    def release(self) -> None:
        """Free the audio_id of a clone that did not succeed. Files an unwritable disk keeps keep
        their row too, marked failed: its owner owns them, and can delete it once the disk allows."""
        try:
            self.delete()
        except OSError:
            logger.exception("Could not remove the files of voice %s; it stays, failed", self.pk)
            Speaker.objects.filter(pk=self.pk).update(status=Speaker.Status.FAILED)


def may_read_speaker_file(user, relative: PurePosixPath) -> bool:
    """A file of one of the user's speakers (voices/speakers/<id>/…)."""
    return len(relative.parts) > 3 and Speaker.objects.visible_to(user).filter(pk=relative.parts[2]).exists()


def may_read_generated_clip(user, relative: PurePosixPath) -> bool:
    """A clip one of the user's tasks generated (voices/generated/…)."""
    url = settings.MEDIA_URL + relative.as_posix()
    return Task.objects.visible_to(user).filter(result__cloned_audio_path=url).exists()
