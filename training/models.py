from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from avatar_site.lib.errors import NotFound
from avatar_site.lib.ids import create_with_free_id
from avatar_site.lib.ownership import OwnedQuerySet
from avatar_site.lib.paths import confine, stored_path
from avatar_site.lib.storage import remove_tree
from avatar_site.lib.uploads import delete_upload
from monitoring import jobs
from training.engines import talking_head_engine_as_configured

logger = logging.getLogger(__name__)

class AvatarQuerySet(OwnedQuerySet):
    def ready(self) -> AvatarQuerySet:
        return self.filter(status=Avatar.Status.READY)

    def claim_for_training(self, task, avatar_id: str) -> Avatar | None:
        """Mark the avatar as trained by ``task`` and return it; None when it is not the job's to train.

        The first training takes the avatar its request made; a retry takes back a failed one
        (never one a newer request made under the freed id: for_job). One that is ready (an
        earlier retry succeeded), being trained by another task or gone is refused: training in
        place would wipe files that renders or the other job use.
        """
        claimable = models.Q(status__in=Avatar.UNTRAINED) | models.Q(status=Avatar.Status.TRAINING, trained_by="")
        self.for_job(task).filter(claimable, pk=avatar_id).update(status=Avatar.Status.TRAINING, trained_by=task.pk)
        return self.filter(pk=avatar_id, status=Avatar.Status.TRAINING, trained_by=task.pk).first()

    def get_by_model_param(self, model_param: str) -> Avatar:
        """The avatar a client's ``model_param`` names: its id, or its folder inside the input roots."""
        avatar = self.filter(pk=model_param).first()
        if avatar is None:
            folder = confine(model_param, field="model_param")
            avatars_root = settings.MEDIA_ROOT / "avatars"
            if folder.parent == avatars_root:
                avatar = self.filter(pk=folder.name).first()
        if avatar is None:
            raise NotFound(_("model_param: no trained avatar %(name)r; see /api/avatars.") % {"name": model_param})
        return avatar


class Avatar(models.Model):
    """A trained talking-head model: a folder with the engine's files and a manifest.json."""

    task_parameters = ("avatar_id",)  # what jobs name it by (monitoring's TaskQuerySet.unfinished_naming)

    class Status(models.TextChoices):
        # The spec's labels, in Chinese whatever the language (the API lists them); messages
        # translate them (gettext_noop only marks them for the catalogues).
        TRAINING = "training", gettext_noop("训练中")
        READY = "ready", gettext_noop("可用")
        FAILED = "failed", gettext_noop("训练失败")
        CANCELLED = "cancelled", gettext_noop("已取消")

    #: Not trained, and no job training it: a retry may take it back.
    UNTRAINED = (Status.FAILED, Status.CANCELLED)

    id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(gettext_lazy("name"), max_length=100, blank=True,
                            help_text=gettext_lazy("What its owner calls it (by default the reference video's file name)"))
    engine = models.CharField(gettext_lazy("engine"), max_length=32, db_index=True)
    status = models.CharField(gettext_lazy("status"), max_length=16, choices=Status.choices, default=Status.TRAINING,
                              db_index=True)
    source_video = models.CharField(gettext_lazy("source video"), max_length=500)
    source_uploaded = models.BooleanField(
        gettext_lazy("source uploaded"), default=False,
        help_text=gettext_lazy("The source video was uploaded for it (deleted with it), not a path the client named"),
    )
    epochs = models.PositiveIntegerField(gettext_lazy("epochs"))
    params = models.JSONField(gettext_lazy("parameters"), default=dict, blank=True)
    metrics = models.JSONField(gettext_lazy("metrics"), default=dict, blank=True, help_text=gettext_lazy("Losses, scores and timings from training"))
    gpu = models.CharField("GPU", max_length=32, blank=True)
    trained_by = models.CharField(
        gettext_lazy("trained by"), max_length=64, blank=True,
        help_text=gettext_lazy("The task whose job trains (or trained) it; empty until its first training starts"),
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=gettext_lazy("owner"))
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now)

    objects = AvatarQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("avatar")
        verbose_name_plural = gettext_lazy("avatars")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.id} ({self.engine})"

    @staticmethod
    def default_name(ref_video) -> str:
        """The reference video's file name without its extension: what a user recognises it by."""
        given = getattr(ref_video, "name", None) or str(ref_video)
        return PurePosixPath(given.replace("\\", "/")).stem[:100]

    @classmethod
    def create_with_unique_id(cls, **fields) -> Avatar:
        """Name it like the spec's speaker_id, ``user_YYYYMMDD``, with ``_2``, ``_3``… when taken."""
        return create_with_free_id(cls, f"user_{timezone.localtime():%Y%m%d}", 10000, **fields)

    @property
    def folder(self) -> Path:
        return stored_path(settings.MEDIA_ROOT / "avatars", self.id)

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def delete_files(self) -> None:
        remove_tree(self.folder)
        engine = talking_head_engine_as_configured(self.engine)
        # A registered workspace's data/<id> is the operator's (training/registration.py), not ours.
        if engine and not self.metrics.get("registered_from"):
            outside = engine.training_data(self.id)
            if outside is not None:
                remove_tree(outside)
            elif engine.keeps_training_data and self.gpu:  # on the GPU host that trained it, not here
                # Once the deletion is committed: the worker keeps the folder of an avatar it still finds.
                transaction.on_commit(partial(_remove_training_data_on, self.gpu, self.engine, self.id))

    def read_manifest(self) -> dict:
        """What its training (or import) recorded; {} when the file is missing or unreadable."""
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return {}

    def write_manifest(self, manifest: dict) -> None:
        """Written whole or not at all (a render reading it meanwhile sees the old one or the new)."""
        partial = self.manifest_path.with_suffix(".json.partial")
        partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
        partial.replace(self.manifest_path)

    def make_ready(self, manifest: dict) -> None:
        """An avatar whose files were put in place rather than trained (imported, registered)."""
        self.write_manifest(manifest)
        self.status = Avatar.Status.READY
        self.save(update_fields=["status"])

    def mark_untrained(self, status: str) -> None:
        """A training that did not succeed: its files go and the avatar is marked ``status``
        (failed or cancelled). Files an unwritable disk keeps stay owned by the row."""
        self.status = status  # first: a GPU host removing its data checks that it is untrained
        self.save(update_fields=["status"])
        try:
            self.delete_files()
        except OSError:
            logger.exception("Could not remove the files of avatar %s", self.pk)

    def delete(self, *args, **kwargs):
        self.delete_files()
        if self.source_uploaded:  # a failed training keeps it (for a retry); a deleted avatar does not
            delete_upload(self.source_video)
        return super().delete(*args, **kwargs)


def _remove_training_data_on(queue: str, engine: str, avatar_id: str) -> None:
    # If it cannot be sent the avatar still goes; README says where its data stays then.
    jobs.send_housekeeping("training.tasks.remove_training_data", engine, avatar_id, queue=queue,
                           name=f"remove-data-{avatar_id}")


def may_read_avatar_file(user, relative: PurePosixPath) -> bool:
    """A file of one of the user's avatars (avatars/<id>/…)."""
    return len(relative.parts) > 2 and Avatar.objects.visible_to(user).filter(pk=relative.parts[1]).exists()
