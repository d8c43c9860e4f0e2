"""Delete history, finished tasks and their files older than N days, orphan uploads, partial
outputs and outputs no task lists (monitoring/pruning.py), and what the apps prune of their own
(the prune_requested signal: failed avatars, old recordings, orphan folders)."""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import pruning
from monitoring.signals import prune_requested


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
        tasks, history = pruning.finished_tasks_and_history(cutoff, dry_run)
        self.stdout.write(f"{tasks} task(s) and {history} history row(s) before {cutoff:%Y-%m-%d}")
        for receiver, removed in prune_requested.send(sender=self.__class__, cutoff=cutoff, dry_run=dry_run):
            self.stdout.write(f"{removed} {getattr(receiver, 'pruned_what', 'rows')}")
        self.stdout.write(f"{pruning.scratch_files(cutoff, dry_run)} orphan file(s) in "
                          f"{', '.join(pruning.SCRATCH_FOLDERS)}")
        self.stdout.write(f"{pruning.partial_outputs(cutoff, dry_run)} partial output(s) left by killed jobs")
        self.stdout.write(f"{pruning.unlisted_outputs(cutoff, dry_run)} output(s) in "
                          f"{', '.join(pruning.OUTPUT_FOLDERS)} that no task lists")
        self.stdout.write(f"{pruning.queue_failures(cutoff, dry_run)} django-q failure record(s)")
