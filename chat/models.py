from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from avatar_site.lib.ownership import OwnedQuerySet
from avatar_site.lib.paths import stored_path
from monitoring.models import Task


class Conversation(models.Model):
    """A voice chat with an avatar; its last turns go with each new question to the LLM."""

    task_parameters = ("conversation_id",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=gettext_lazy("owner"))
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now)

    class Meta:
        verbose_name = gettext_lazy("conversation")
        verbose_name_plural = gettext_lazy("conversations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)

    def recent_messages(self, turns: int) -> list[dict]:
        """The last ``turns`` exchanges as chat messages, oldest first."""
        # Not the turn of a job that ended failed after writing it (recovery had already judged its
        # worker dead, so no task_finished dropped it): a retry asks that question again.
        answered = self.turns.exclude(task__status__in=[Task.Status.FAILED, Task.Status.CANCELLED])
        recent = list(answered.order_by("-created_at")[:turns])[::-1]
        messages = []
        for turn in recent:
            messages.append({"role": "user", "content": turn.question})
            messages.append({"role": "assistant", "content": turn.answer})
        return messages


class Turn(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    # The job that answered: a turn whose job did not succeed in the end (its worker died after
    # writing it) is removed, so that running the job again does not leave the question twice.
    task = models.OneToOneField("monitoring.Task", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="chat_turn")
    question = models.TextField(gettext_lazy("question"))
    answer = models.TextField(gettext_lazy("answer"))
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now)

    class Meta:
        verbose_name = gettext_lazy("turn")
        verbose_name_plural = gettext_lazy("turns")
        ordering = ["created_at"]


class Recording(models.Model):
    """A microphone recording a user sent (/save_audio or /chat_system), kept as 16 kHz mono WAV."""

    task_parameters = ("recording_id",)
    task_path_parameters = ("source_path",)  # a voice cloned from it (/save_audio's audio_path)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.CharField(gettext_lazy("file"), max_length=500, help_text=gettext_lazy("Relative to MEDIA_ROOT"))
    original_name = models.CharField(gettext_lazy("original name"), max_length=255, blank=True)
    duration = models.FloatField(gettext_lazy("duration"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=gettext_lazy("owner"))
    created_at = models.DateTimeField(gettext_lazy("created at"), default=timezone.now)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("recording")
        verbose_name_plural = gettext_lazy("recordings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name or str(self.id)

    @property
    def path(self):
        return stored_path(settings.MEDIA_ROOT, self.file)

    def delete(self, *args, **kwargs):
        self.path.unlink(missing_ok=True)
        return super().delete(*args, **kwargs)


def may_read_recording(user, relative: PurePosixPath) -> bool:
    return Recording.objects.visible_to(user).filter(file=relative.as_posix()).exists()
