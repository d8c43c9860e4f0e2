"""Job functions for tests of the queue machinery (importable by real worker processes)."""

from __future__ import annotations

import time

from monitoring.errors import JobFailed


def count_job(task, progress) -> dict:
    """Counts to ``steps`` with a pause per step, reporting progress and a log line each time;
    stopped, it takes ``unwind`` seconds to end."""
    steps = task.parameters.get("steps", 10)
    if task.parameters.get("scratch"):  # what a render leaves while it works, named as renders name it
        from django.conf import settings

        from generation.renderer import video_output_path

        output = video_output_path(task.pk)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.with_name(f".{output.stem}.partial.mp4").write_bytes(b"half")
        (settings.MEDIA_ROOT / "tmp" / f"{output.stem}_work").mkdir(parents=True, exist_ok=True)
    try:
        for step in range(1, steps + 1):
            time.sleep(task.parameters.get("pause", 0.1))
            progress.log(f"step {step}")
            progress(100 * step / steps, f"step {step}/{steps}")
    except BaseException:
        time.sleep(task.parameters.get("unwind", 0))  # as an engine takes its time to stop
        raise
    return {"counted": steps}


def failing_job(task, progress) -> dict:
    progress(10, "about to fail")
    raise JobFailed("The input was not usable.", http_status=422)


def crashing_job(task, progress) -> dict:
    return {"value": 1 / 0}


def writing_job(task, progress) -> dict:
    """Writes a file where the test says, failing like a full disk or a missing folder would."""
    with open(task.parameters["target"], "wb") as handle:
        handle.write(b"data")
    return {}


def encoding_job(task, progress) -> dict:
    """Fails as ffmpeg does when the disk fills up under it."""
    from avatar_site.lib.media import MediaError

    raise MediaError("ffmpeg failed: av_interleaved_write_frame(): No space left on device")


def translated_failure_job(task, progress) -> dict:
    """Reports and fails with messages of the site's catalogue (see avatar_site/tests/test_languages.py)."""
    from django.utils.translation import gettext as _

    progress(10, _("Rendering the video"))
    raise JobFailed(_("The text to speak is empty."))


def stopped_job(task, progress) -> dict:
    """Gets SIGTERM's WorkerStopping after ``seconds`` of work."""
    from monitoring.runner import WorkerStopping

    time.sleep(task.parameters.get("seconds", 0))
    raise WorkerStopping()
