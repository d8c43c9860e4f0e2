"""What `manage.py prune` deletes besides the apps' own rows (the prune_requested signal): each
function takes the cutoff and dry_run and answers how many it found (and, unless dry_run, deleted)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django_q.models import Failure

from monitoring.models import HistoryRecord, Task

#: Folders under MEDIA_ROOT of files a request left for its job (uploads) or a job for itself;
#: apps add theirs in ready().
SCRATCH_FOLDERS = ["uploads", "tmp"]
#: Folders under MEDIA_ROOT where every file is a job's output, listed in its task's result["files"];
#: apps add theirs in ready().
OUTPUT_FOLDERS: list[str] = []


def register_scratch_folder(folder: str) -> None:
    if folder not in SCRATCH_FOLDERS:
        SCRATCH_FOLDERS.append(folder)


def register_output_folder(folder: str) -> None:
    if folder not in OUTPUT_FOLDERS:
        OUTPUT_FOLDERS.append(folder)


def finished_tasks_and_history(cutoff: datetime, dry_run: bool) -> tuple[int, int]:
    """Finished tasks (with their output files) and history rows from before the cutoff; a queued
    or running task's row stays, however old: the task still reports into it."""
    old_tasks = Task.objects.filter(created_at__lt=cutoff, status__in=Task.FINISHED)
    old_history = HistoryRecord.objects.filter(created_at__lt=cutoff).exclude(task__status__in=Task.UNFINISHED)
    counts = old_tasks.count(), old_history.count()
    if not dry_run:
        for task in old_tasks:
            task.delete_result_files()
        old_tasks.delete()
        old_history.delete()
    return counts


def scratch_files(cutoff: datetime, dry_run: bool) -> int:
    """Files in the scratch folders untouched since the cutoff that no remaining task names and
    no running job's scratch holds."""
    referenced = _referenced_paths()
    live = tuple(f"{pk}_" for pk in Task.objects.filter(status__in=Task.UNFINISHED).values_list("pk", flat=True))
    found = []
    for folder in SCRATCH_FOLDERS:
        root = settings.MEDIA_ROOT / folder
        if root.is_dir():
            found += [path for path in root.rglob("*")
                      if path.is_file() and _older(path, cutoff) and str(path) not in referenced
                      and not (live and path.relative_to(root).parts[0].startswith(live))]
    return _delete(found, dry_run)


def partial_outputs(cutoff: datetime, dry_run: bool) -> int:
    """Partial outputs (".<name>….partial.<ext>") a killed job left beside the real ones; a
    finished job renames or removes its own at once."""
    return _delete([path for path in settings.MEDIA_ROOT.rglob(".*.partial*")
                    if path.is_file() and _older(path, cutoff)], dry_run)


def unlisted_outputs(cutoff: datetime, dry_run: bool) -> int:
    """Outputs no task lists: a job stopped between writing its file and recording its result."""
    kept = {Path(name).resolve() for result in Task.objects.values_list("result", flat=True).iterator()
            for name in result.get("files", [])}
    kept |= {Path(value).resolve() for value in _referenced_paths()}
    return _delete([path for folder in OUTPUT_FOLDERS if (settings.MEDIA_ROOT / folder).is_dir()
                    for path in (settings.MEDIA_ROOT / folder).iterdir()
                    if path.is_file() and not path.name.startswith(".") and _older(path, cutoff)
                    and path.resolve() not in kept], dry_run)


def queue_failures(cutoff: datetime, dry_run: bool) -> int:
    """django-q's Failure rows (with tracebacks) of jobs that raised out of our runner (a job
    timeout); its save_limit trims only successes."""
    failures = Failure.objects.filter(stopped__lt=cutoff)
    count = failures.count()
    if not dry_run:
        failures.delete()
    return count


def _referenced_paths() -> set[str]:
    """Every string a remaining task was given as a parameter: uploads still in use."""
    paths = set()
    for parameters in Task.objects.values_list("parameters", flat=True).iterator():
        paths.update(value for value in parameters.values() if isinstance(value, str))
    return paths


def _older(path: Path, cutoff: datetime) -> bool:
    return path.stat().st_mtime < cutoff.timestamp()


def _delete(paths: list[Path], dry_run: bool) -> int:
    if not dry_run:
        for path in paths:
            path.unlink(missing_ok=True)
    return len(paths)
