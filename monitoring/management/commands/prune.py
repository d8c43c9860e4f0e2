"""Delete history, finished tasks and their files older than N days, orphan uploads, partial
outputs and outputs no task lists, failed avatars (training.signals) and old recordings (chat.signals)."""

from __future__ import annotations

import time
from argparse import ArgumentTypeError
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Failure

from monitoring.models import HistoryRecord, Task
from monitoring.signals import prune_requested

SCRATCH_FOLDERS = ["uploads", "tmp", "chat/uploads"]
# Every file here is a job's output, listed in its task's result["files"].
OUTPUT_FOLDERS = ["videos", "voices/generated"]


def _at_least_one_day(text: str) -> int:
    days = int(text)
    if days < 1:
        raise ArgumentTypeError("--days must be 1 or more (0 would delete what running jobs are writing)")
    return days


class Command(BaseCommand):
    help = "Delete history rows, finished tasks (with their output files) and orphan uploads older than --days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=_at_least_one_day, default=30)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, days: int, dry_run: bool, **options):
        cutoff = timezone.now() - timedelta(days=days)
        old_tasks = Task.objects.filter(created_at__lt=cutoff, status__in=Task.FINISHED)
        # A queued or running task's row stays, however old: the task still reports into it.
        old_history = HistoryRecord.objects.filter(created_at__lt=cutoff).exclude(task__status__in=Task.UNFINISHED)
        self.stdout.write(f"{old_tasks.count()} task(s) and {old_history.count()} history row(s) before {cutoff:%Y-%m-%d}")
        if not dry_run:
            for task in old_tasks:
                task.delete_result_files()
            old_tasks.delete()
            old_history.delete()

        for receiver, removed in prune_requested.send(sender=self.__class__, cutoff=cutoff, dry_run=dry_run):
            self.stdout.write(f"{removed} {getattr(receiver, 'pruned_what', 'rows')}")

        referenced = self._referenced_paths()
        live = tuple(f"{pk}_" for pk in Task.objects.filter(status__in=Task.UNFINISHED).values_list("pk", flat=True))
        removed = 0
        for folder in SCRATCH_FOLDERS:
            root = settings.MEDIA_ROOT / folder
            if not root.is_dir():
                continue
            for path in root.rglob("*"):
                if (
                    path.is_file()
                    and path.stat().st_mtime < time.time() - days * 86400
                    and str(path) not in referenced
                    and not (live and path.relative_to(root).parts[0].startswith(live))  # a running job's scratch
                ):
                    removed += 1
                    if not dry_run:
                        path.unlink(missing_ok=True)
        self.stdout.write(f"{removed} orphan file(s) in {', '.join(SCRATCH_FOLDERS)}")

        # Partial outputs (".<name>….partial.<ext>") that a killed job left beside the real ones,
        # e.g. voices/generated/; a finished job renames or removes its own at once.
        partials = [path for path in settings.MEDIA_ROOT.rglob(".*.partial*")
                    if path.is_file() and path.stat().st_mtime < time.time() - days * 86400]
        if not dry_run:
            for path in partials:
                path.unlink(missing_ok=True)
        self.stdout.write(f"{len(partials)} partial output(s) left by killed jobs")

        # Outputs no task lists: a job stopped between writing its file and recording its result.
        kept = self._listed_outputs() | {Path(value).resolve() for value in referenced}
        unlisted = [path for folder in OUTPUT_FOLDERS if (settings.MEDIA_ROOT / folder).is_dir()
                    for path in (settings.MEDIA_ROOT / folder).iterdir()
                    if path.is_file() and not path.name.startswith(".")
                    and path.stat().st_mtime < time.time() - days * 86400 and path.resolve() not in kept]
        if not dry_run:
            for path in unlisted:
                path.unlink(missing_ok=True)
        self.stdout.write(f"{len(unlisted)} output(s) in {', '.join(OUTPUT_FOLDERS)} that no task lists")

        # django-q keeps a Failure row (with its traceback) per job that raised out of our runner
        # (a job timeout); its save_limit trims only successes.
        failures = Failure.objects.filter(stopped__lt=cutoff)
        self.stdout.write(f"{failures.count()} django-q failure record(s)")
        if not dry_run:
            failures.delete()

    def _listed_outputs(self) -> set[Path]:
        return {Path(name).resolve() for result in Task.objects.values_list("result", flat=True).iterator()
                for name in result.get("files", [])}

    def _referenced_paths(self) -> set[str]:
        """Every string a remaining task was given as a parameter: uploads still in use."""
        paths = set()
        for parameters in Task.objects.values_list("parameters", flat=True).iterator():
            paths.update(value for value in parameters.values() if isinstance(value, str))
        return paths
