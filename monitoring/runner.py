"""Running a queued job: claim its Task row, run the job function, record how it ended.

Job functions take ``(task, progress)`` and return a result dict. ``progress`` is a Progress:
call it with a percentage and a message, log lines with ``progress.log(line)``; it raises
JobCancelled once the task was asked to stop, so long loops end promptly.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import soundfile
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.exceptions import TimeoutException
from rest_framework.exceptions import APIException

from avatar_site.lib.engines import EngineUnavailable
from avatar_site.lib.media import MediaError
from avatar_site.lib.storage import disk_full_message, media_disk_full, media_free_bytes
from monitoring.engine_reports import report_engines
from monitoring.errors import JobCancelled, JobFailed
from monitoring.models import Task
from monitoring.recovery import send_sweep, worker_host

logger = logging.getLogger(__name__)


class WorkerStopping(BaseException):
    """SIGTERM reached the worker: django-q's JOB_TIMEOUT ran out, or the worker is shutting down."""


TIMED_OUT_MESSAGE = gettext_lazy("The job was stopped: it ran longer than JOB_TIMEOUT (%(timeout)s s).")
SHUT_DOWN_MESSAGE = gettext_lazy(
    "The job was stopped: its worker was shut down (the platform was stopped or restarted); send the request again."
)


@contextmanager
def _stopping_on_sigterm():
    """Turn SIGTERM into WorkerStopping while a job runs, so it unwinds (killing its child
    processes) and its task ends failed instead of staying "running" forever."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise WorkerStopping()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Progress:
    """Progress, log and cancellation channel between a running job and its Task row.

    Reporting progress or a log line raises JobCancelled once the task has been asked to stop
    (seen at the next write to the row, at most ``flush_seconds`` apart), so a job stops at its
    next report without checking; ``should_cancel`` only answers, for code that stops on its own
    (a running command to kill).
    """

    def __init__(self, task: Task, start: float = 0.0, end: float = 100.0, flush_seconds: float = 0.5):
        self.task = task
        self.start = start
        self.end = end
        self.flush_seconds = flush_seconds
        self._pending_lines: list[str] = []
        self._last_flush = 0.0
        self._parent: Progress | None = None

    def __call__(self, percent: float, message: str | None = None) -> None:
        root = self._root()
        overall = self.start + (self.end - self.start) * max(0.0, min(percent, 100.0)) / 100.0
        root.task.progress = max(root.task.progress, min(int(overall), 99))
        if message is not None:
            root.task.message = str(message)
        root.flush(force=message is not None)
        self._stop_if_asked()

    def scaled(self, start: float, end: float) -> Progress:
        """A Progress whose 0–100 maps onto ``start``–``end`` of this one (for job stages)."""
        child = Progress(self.task, self._map(start), self._map(end), self.flush_seconds)
        child._parent = self._root()
        return child

    def log(self, line: str) -> None:
        root = self._root()
        root._pending_lines.append(line)
        root.flush()
        self._stop_if_asked()

    def should_cancel(self, force: bool = False) -> bool:
        root = self._root()
        root.flush(force)
        return root.task.cancel_requested

    def check_cancelled(self, force: bool = False) -> None:
        """Raise JobCancelled if the task has been asked to stop (``force``: ask the row now)."""
        if self.should_cancel(force):
            raise JobCancelled()

    def flush(self, force: bool = False) -> None:
        """Write progress, message and log to the row and read whether to stop; at most every
        ``flush_seconds`` unless forced."""
        now = time.monotonic()
        if not force and now - self._last_flush < self.flush_seconds:
            return
        self._last_flush = now
        task = self.task
        if self._pending_lines:
            task.append_log(self._pending_lines)
            self._pending_lines = []
        running = Task.objects.filter(pk=task.pk, status=Task.Status.RUNNING).update(
            progress=task.progress, message=task.message, log_tail=task.log_tail)
        # A task that ended meanwhile (staff marked its host lost, recovery judged its worker
        # dead) keeps how it ended, and its job stops as if cancelled.
        task.cancel_requested = not running or Task.objects.filter(pk=task.pk, cancel_requested=True).exists()

    def _stop_if_asked(self) -> None:
        if self._root().task.cancel_requested:
            raise JobCancelled()

    def _map(self, percent: float) -> float:
        return self.start + (self.end - self.start) * percent / 100.0

    def _root(self) -> Progress:
        return self._parent or self


def run_task(task_id: str) -> None:
    """django-q entry point: run the job of one Task row, exactly once."""
    try:
        task = Task.objects.get(pk=task_id)
    except Task.DoesNotExist:
        logger.warning("Task %s vanished before it ran", task_id)
        return
    if not task.claim(os.getpid(), worker_host()):
        logger.info("Task %s was not queued any more (%s); skipped", task_id, task.status)
        return
    with translation.override(task.own_language):
        _run_claimed(task)
    send_sweep(task.queue)


def _deleted_kind(exc: ObjectDoesNotExist) -> str:
    """"avatar" for Avatar.DoesNotExist: what the reader calls the row, in their language."""
    model = next((model for model in apps.get_models() if type(exc) is model.DoesNotExist), None)
    return str(model._meta.verbose_name) if model else _("a record")


def _run_claimed(task: Task) -> None:
    task_id = task.pk
    progress = Progress(task)
    began = time.monotonic()
    try:
        job = import_string(task.handler)
        with _stopping_on_sigterm():
            result = job(task, progress)
    except TimeoutException:
        # django-q's alarm at JOB_TIMEOUT; it retires this worker once we re-raise.
        _finish(task, progress, Task.Status.FAILED, TIMED_OUT_MESSAGE % {"timeout": settings.JOB_TIMEOUT},
                {"http_status": 503})
        raise
    except WorkerStopping:
        # django-q's guard also stops a worker whose job outlived JOB_TIMEOUT with SIGTERM.
        timed_out = time.monotonic() - began >= settings.JOB_TIMEOUT - 1
        message = TIMED_OUT_MESSAGE % {"timeout": settings.JOB_TIMEOUT} if timed_out else SHUT_DOWN_MESSAGE
        _finish(task, progress, Task.Status.FAILED, message, {"http_status": 503})
        raise SystemExit(1) from None  # the worker is being shut down: leave
    except JobCancelled:
        _finish(task, progress, Task.Status.CANCELLED, _("Cancelled."))
    except JobFailed as exc:
        _finish(task, progress, Task.Status.FAILED, str(exc), {"http_status": exc.http_status})
    except EngineUnavailable as exc:
        # Web hosts accept jobs on this worker's word (engine_reports): say it anew, so they stop.
        _report_engines_again(task.queue)
        _finish(task, progress, Task.Status.FAILED, str(exc.detail), {"http_status": exc.status_code})
    except APIException as exc:  # bad input found late: already user-facing
        _finish(task, progress, Task.Status.FAILED, str(exc.detail), {"http_status": exc.status_code})
    except MediaError as exc:  # media that ffmpeg could not read or write
        _finish(task, progress, Task.Status.FAILED, str(exc), {"http_status": 422})
    except OSError as exc:  # disk full, media folder unwritable, a tool missing
        logger.exception("Task %s hit a system error", task_id)
        # The file's name, not where it lies on the server (clients read this message).
        message = _("System error: %(error)s") % {"error": exc.strerror or exc} + (
            f" ({Path(exc.filename).name})" if exc.filename else "")
        _finish(task, progress, Task.Status.FAILED, message, {"http_status": 503})
    except ObjectDoesNotExist as exc:  # a speaker, avatar or recording deleted while the job was queued
        message = _("Something this job needs was deleted before it ran (%(what)s); send the request again.") % {
            "what": _deleted_kind(exc)}
        _finish(task, progress, Task.Status.FAILED, message, {"http_status": 410})
    except soundfile.LibsndfileError as exc:  # libsndfile hides the errno of a failed write
        logger.exception("Task %s could not write audio", task_id)
        free_mb = (media_free_bytes() or 0) / 2**20
        message = _("System error: an audio file could not be written (libsndfile: %(error)s); "
                    "%(free_mb).1f MB free on the media folder's disk.") % {"error": exc, "free_mb": free_mb}
        _finish(task, progress, Task.Status.FAILED, message, {"http_status": 503})
    except Exception as exc:
        logger.exception("Task %s crashed", task_id)
        message = _("Internal error: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
        _finish(task, progress, Task.Status.FAILED, message, {"http_status": 500})
    else:
        _finish(task, progress, Task.Status.SUCCEEDED, _("Done."), result or {})


def _finish(task: Task, progress: Progress, status: str, message: str, result: dict | None = None) -> None:
    progress.flush(force=True)  # a job that ended before it saw a request to stop keeps how it ended
    if status == Task.Status.FAILED:
        # A full disk surfaces as whatever broke first (ffmpeg, libsndfile, an engine): name the
        # cause, and answer as the server's fault, not the input's.
        disk_full = media_disk_full()
        if disk_full:
            message = _("%(disk_full)s The job ended with: %(message)s") % {
                "disk_full": disk_full_message(), "message": message}
        if disk_full or "No space left on device" in message:
            result = {**(result or {}), "http_status": 503}
    # Only a running task: recovery may have judged this worker dead and ended the task already;
    # its verdict stands (and what was released for it stays released).
    if not task.finish(status, message, result, only_if=Task.Status.RUNNING):
        logger.warning("Task %s had already ended (%s) when its job ended (%s: %s)",
                       task.pk, task.status, status, message)


def _report_engines_again(queue: str) -> None:
    try:
        report_engines(queue)
    except Exception:  # the job's own failure is what matters here
        logger.exception("Could not report this worker's engines again")
