from django.dispatch import Signal

# Sent with ``task`` whenever a Task reaches SUCCEEDED, FAILED or CANCELLED, whether or not its job
# ever ran (cancelled while queued, queue unavailable, worker died): apps release what they
# reserved for the job, e.g. a speaker id or an avatar row.
task_finished = Signal()

# Sent by `manage.py prune` with ``cutoff`` (a datetime) and ``dry_run``: apps delete their own rows
# and files older than the cutoff and return how many they removed.
prune_requested = Signal()
