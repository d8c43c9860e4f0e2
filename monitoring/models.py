from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from avatar_site.lib.ids import create_with_free_id
from avatar_site.lib.ownership import OwnedQuerySet
from monitoring.signals import task_finished


class HistoryType(models.TextChoices):
    # The pages' names for the four operations.
    VIDEO_GENERATION = "video_generation", gettext_lazy("Video generation")
    MODEL_TRAINING = "model_training", gettext_lazy("Model training")
    AUDIO_CLONE = "audio_clone", gettext_lazy("Voice cloning")
    CHAT_SYSTEM = "chat_system", gettext_lazy("Voice chat")


TASK_ID_PREFIX = {
    HistoryType.VIDEO_GENERATION: "gen",
    HistoryType.MODEL_TRAINING: "train",
    HistoryType.AUDIO_CLONE: "clone",
    HistoryType.CHAT_SYSTEM: "chat",
}

CANCELLED_BEFORE_START = gettext_lazy("Cancelled before it started.")

LOG_TAIL_LINES = 200
LOG_LINE_CHARS = 2000  # the tail is sent with every poll of the task



class TaskQuerySet(OwnedQuerySet):
    def unfinished_using(self, **parameters) -> TaskQuerySet:
        """Queued or running tasks whose parameters hold any of these values (``avatar_id="user_…"``)."""
        if not parameters:
            return self.none()
        named = Q()
        for key, value in parameters.items():
            named |= Q(**{f"parameters__{key}": value})
        return self.filter(named, status__in=Task.UNFINISHED)

    def unfinished_naming(self, row) -> TaskQuerySet:
        """Queued or running tasks that name ``row`` (a speaker, avatar…) by the parameters its
        model lists in ``task_parameters`` (by id) or ``task_path_parameters`` (its file, by the
        path a job reads): deleting it would fail their jobs half-way."""
        named = {key: str(row.pk) for key in type(row).task_parameters}
        named.update({key: str(row.path.resolve()) for key in getattr(type(row), "task_path_parameters", ())})
        return self.unfinished_using(**named)


class Task(models.Model):
    """One queued job. Our row, not django-q's, is the source of truth for the job's state.

    Transitions: QUEUED → RUNNING (claimed by exactly one worker) → SUCCEEDED | FAILED | CANCELLED;
    QUEUED → CANCELLED (cancelled before a worker took it). A running job that is asked to stop
    gets ``cancel_requested`` and ends CANCELLED when its worker notices.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Running")
        SUCCEEDED = "succeeded", gettext_lazy("Succeeded")
        FAILED = "failed", gettext_lazy("Failed")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    UNFINISHED = (Status.QUEUED, Status.RUNNING)

    id = models.CharField(primary_key=True, max_length=64)
    kind = models.CharField(gettext_lazy("kind"), max_length=32, choices=HistoryType.choices, db_index=True)
    status = models.CharField(gettext_lazy("status"), max_length=16, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    progress = models.PositiveSmallIntegerField(gettext_lazy("progress"), default=0)
    message = models.TextField(gettext_lazy("message"), blank=True)
    log_tail = models.TextField(gettext_lazy("log tail"), blank=True)
    queue = models.CharField(gettext_lazy("queue"), max_length=32,
                             help_text=gettext_lazy("django-q cluster that runs the job (GPU0, GPU1, CPU…)"))
    gpu = models.CharField("GPU", max_length=32, blank=True, help_text=gettext_lazy("The client's gpu_choice"))
    handler = models.CharField(gettext_lazy("handler"), max_length=200,
                               help_text=gettext_lazy("Dotted path of the job function"))
    parameters = models.JSONField(gettext_lazy("parameters"), default=dict, blank=True)
    result = models.JSONField(gettext_lazy("result"), default=dict, blank=True)
    cancel_requested = models.BooleanField(gettext_lazy("cancel requested"), default=False)
    q_task_id = models.CharField(gettext_lazy("django-q task id"), max_length=64, blank=True)
    worker_pid = models.IntegerField(gettext_lazy("worker PID"), null=True, blank=True)
    worker_host = models.CharField(gettext_lazy("worker host"), max_length=255, blank=True)
    language = models.CharField(
        gettext_lazy("language"), max_length=16, blank=True,
        help_text=gettext_lazy("The request's language: the job's messages are written in it"),
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=gettext_lazy("owner"))
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(gettext_lazy("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(gettext_lazy("finished at"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("task")
        verbose_name_plural = gettext_lazy("tasks")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.id

    @classmethod
    def create_with_unique_id(cls, kind: str, now: datetime | None = None, **fields) -> Task:
        """Create a task named like the spec (``train_20251218_054414``), suffixed when taken."""
        stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d_%H%M%S")
        return create_with_free_id(cls, f"{TASK_ID_PREFIX[kind]}_{stamp}", 1000, kind=kind, **fields)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def as_polled(self) -> dict:
        """The task as /api/tasks/<id> shows it (built by hand: the most polled endpoint; TaskSerializer
        describes it for the schema). ``status`` is the spec's success/error, so the task's is ``task_status``."""
        return {
            "task_id": self.pk,
            "kind": self.kind,
            "task_status": self.status,
            "progress": self.progress,
            "message": self.message,
            "log_tail": self.log_tail,
            "gpu": self.gpu,
            "queue": self.queue,
            "parameters": shown(self.parameters),
            "result": shown(self.result),
            "cancel_requested": self.cancel_requested,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration": self.duration,
        }

    def claim(self, pid: int, host: str) -> bool:
        """Move QUEUED → RUNNING for exactly one worker; False if someone else has it or it was cancelled."""
        now = timezone.now()
        with transaction.atomic():  # a task that ends meanwhile must not leave its history row running
            claimed = Task.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
                status=self.Status.RUNNING, started_at=now, worker_pid=pid, worker_host=host
            )
            if claimed == 1:
                HistoryRecord.objects.filter(task=self).update(status=HistoryRecord.Status.RUNNING)
        if claimed == 1:
            self.refresh_from_db()
        return claimed == 1

    def request_cancel(self) -> bool:
        """Cancel a queued task at once, or ask a running one to stop. False when already finished."""
        with transaction.atomic():
            cancelled = Task.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
                status=self.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
                message=self.in_own_language(CANCELLED_BEFORE_START),
            )
            if cancelled:
                self.refresh_from_db()
                self._sync_history()
        if cancelled:
            task_finished.send(sender=Task, task=self)
            return True
        changed = Task.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(cancel_requested=True)
        self.refresh_from_db()
        return bool(changed)

    def finish(self, status: str, message: str = "", result: dict | None = None, *, only_if: str | None = None) -> bool:
        """End the task and its history row. ``only_if``: only if it is still in that status (False
        when it had moved on meanwhile, as when recovery and a worker finishing at that moment meet,
        or a worker took a task whose enqueueing then reported an error)."""
        self.status = status
        self.message = self.in_own_language(message)
        if result is not None:
            self.result = result
        if status == self.Status.SUCCEEDED:
            self.progress = 100
        self.finished_at = timezone.now()
        fields = ["status", "message", "result", "progress", "finished_at"]
        with transaction.atomic():  # readers never see a finished task with an unfinished history row
            if only_if:
                unchanged = Task.objects.filter(pk=self.pk, status=only_if)
                if not unchanged.update(**{field: getattr(self, field) for field in fields}):
                    self.refresh_from_db()
                    return False
            else:
                self.save(update_fields=fields)
            self._sync_history()
        task_finished.send(sender=Task, task=self)
        return True

    @property
    def own_language(self) -> str:
        """The language of the request that queued the task (tasks from before it was recorded: the site's)."""
        return self.language or settings.LANGUAGE_CODE

    def in_own_language(self, message) -> str:
        """A message (lazy translations included) in the language of the request that queued the task."""
        with translation.override(self.own_language):
            return str(message)

    def _sync_history(self) -> None:
        history_status = {
            self.Status.SUCCEEDED: HistoryRecord.Status.COMPLETED,
            self.Status.FAILED: HistoryRecord.Status.FAILED,
            self.Status.CANCELLED: HistoryRecord.Status.CANCELLED,
        }[self.status]
        result = dict(self.result)
        if self.status != self.Status.SUCCEEDED:
            result.setdefault("message", self.message)
        HistoryRecord.objects.filter(task=self).update(
            status=history_status, result=result, duration=self.duration
        )

    def discard(self) -> bool:
        """Delete the task and its output files; a queued one is cancelled first, so what it
        reserved (an audio_id, a training avatar) and its history row end as for any cancel.
        The history row stays, without links to the deleted files. False, and nothing deleted,
        while it runs: its job still writes files and rows."""
        if self.status == self.Status.RUNNING:
            return False
        self.request_cancel()
        if self.status == self.Status.RUNNING:  # it started meanwhile, and has now been asked to stop
            return False
        if self.result.get("files"):
            self.delete_result_files()
            for record in HistoryRecord.objects.filter(task=self):
                record.result = {**without_links(record.result), "output_deleted": True}
                record.save(update_fields=["result"])
        self.delete()
        return True

    def delete_result_files(self) -> None:
        """Remove the output files the job recorded in its result (only inside MEDIA_ROOT)."""
        media = settings.MEDIA_ROOT.resolve()
        for name in self.result.get("files", []):
            path = Path(name).resolve()
            if path.is_relative_to(media):
                path.unlink(missing_ok=True)

    def remove_scratch(self) -> None:
        """Remove what a job that died left half-done. Jobs name their outputs ``<task id>_<12 hex>``
        (videos/gen_…_3f2a9c0b1d4e.mp4, voices/generated/clone_…_3f2a9c0b1d4e_<gen_audio_id>.wav),
        partial outputs ``<folder>/.<that name>…`` and scratch folders ``tmp/<that name>_…``. The
        12 hex digits matter: ``gen_X_*`` alone also matches ``gen_X_2_…``, the files of another
        task created in the same second."""
        media = settings.MEDIA_ROOT
        own = re.compile(rf"\.?{re.escape(self.pk)}_[0-9a-f]{{12}}([._].*)?")
        partials = [*media.glob(f"*/.{self.pk}_*"), *media.glob(f"*/*/.{self.pk}_*")]  # videos/, voices/generated/
        for path in [*media.glob(f"tmp/{self.pk}_*"), *partials]:
            if not own.fullmatch(path.name):
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def append_log(self, lines: list[str]) -> None:
        lines = [line if len(line) <= LOG_LINE_CHARS else line[:LOG_LINE_CHARS] + " …" for line in lines]
        kept = (self.log_tail.splitlines() + lines)[-LOG_TAIL_LINES:]
        self.log_tail = "\n".join(kept)


SERVER_ONLY_KEYS = {"files", "source_path", "source_uploaded"}  # outputs kept for cleaning up; an upload's place on disk


#: Result fields that name a job's output files: links the pages play, and the server's own list.
OUTPUT_KEYS = {"video_path", "cloned_audio_path", "files"}


def without_links(result: dict) -> dict:
    """A result without what names its output files, for when they have been deleted."""
    return {key: value for key, value in result.items() if key not in OUTPUT_KEYS}


def shown(values: dict) -> dict:
    """A job's parameters or result as clients see them: without the server's own paths."""
    return {key: value for key, value in values.items() if key not in SERVER_ONLY_KEYS}


class HistoryRecordQuerySet(OwnedQuerySet):
    def listed(self) -> list[dict]:
        """The spec's /api/history items, built from plain rows (model instances were a fifth of the request)."""
        zone = timezone.get_current_timezone()
        return [
            {
                "id": f"record_{row['id']}",
                "timestamp": row["created_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                "parameters": shown(row["parameters"]),
                "result": shown(row["result"]),
                "status": row["status"],
                "duration": row["duration"],
                "task_id": row["task_id"],
            }
            for row in self.values("id", "created_at", "parameters", "result", "status", "duration", "task_id")
        ]


class HistoryRecord(models.Model):
    """One row per operation a client asked for, successful or not."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Running")
        COMPLETED = "completed", gettext_lazy("Completed")
        FAILED = "failed", gettext_lazy("Failed")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    type = models.CharField(gettext_lazy("kind"), max_length=32, choices=HistoryType.choices, db_index=True)
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now, db_index=True)
    parameters = models.JSONField(gettext_lazy("parameters"), default=dict, blank=True)
    result = models.JSONField(gettext_lazy("result"), default=dict, blank=True)
    status = models.CharField(gettext_lazy("status"), max_length=16, choices=Status.choices, db_index=True)
    duration = models.FloatField(gettext_lazy("duration"), null=True, blank=True,
                                 help_text=gettext_lazy("Seconds the job ran"))
    task = models.OneToOneField(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="history",
                                verbose_name=gettext_lazy("task"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=gettext_lazy("owner"))

    objects = HistoryRecordQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("history record")
        verbose_name_plural = gettext_lazy("history records")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["type", "-created_at"]),
            models.Index(fields=["owner", "type", "-created_at"]),  # a user's /api/history pages
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at)
        return f"{self.get_type_display()} {when:%Y-%m-%d %H:%M:%S} {self.get_status_display()}"



def _iso(moment):
    """A datetime as DRF writes it: ISO 8601 in the current time zone, UTC as ``Z``."""
    if moment is None:
        return None
    text = timezone.localtime(moment).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class EngineReport(models.Model):
    """Which engines a worker host can run for one queue, written as its workers start and when one
    of its jobs finds an engine unusable.

    In a site spread over several hosts the web host has no GPU engine checkouts: it accepts a
    job for an engine it cannot run itself when a worker of the job's queue reported it usable.
    """

    host = models.CharField(max_length=255)
    queue = models.CharField(max_length=100)
    # {engine class path: "" when usable, else why not as {language code: reason}}
    engines = models.JSONField(default=dict, blank=True)
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = gettext_lazy("engine report")
        verbose_name_plural = gettext_lazy("engine reports")
        ordering = ["queue", "host"]
        constraints = [models.UniqueConstraint(fields=["host", "queue"], name="one_engine_report_per_worker_queue")]

    def __str__(self) -> str:
        return f"{self.queue}@{self.host}"
