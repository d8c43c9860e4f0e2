import pytest

from monitoring import jobs
from monitoring.models import HistoryRecord, HistoryType, Task
from monitoring.runner import run_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_queue(monkeypatch):
    """Submit without running, so a test can drive run_task itself."""
    monkeypatch.setattr(jobs, "enqueue", lambda task: None)


def submit(job, **parameters):
    return jobs.submit(HistoryType.VIDEO_GENERATION, f"tests.jobs.{job}", parameters, queue="GPU0")


def test_it_runs_a_job_and_records_result_progress_and_log(no_queue):
    task = submit("count_job", steps=3, pause=0)

    run_task(task.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED
    assert task.progress == 100
    assert task.result == {"counted": 3}
    assert task.log_tail.splitlines() == ["step 1", "step 2", "step 3"]
    assert task.started_at <= task.finished_at
    history = HistoryRecord.objects.get(task=task)
    assert history.status == "completed"
    assert history.duration is not None


def test_it_records_a_user_facing_failure(no_queue):
    task = submit("failing_job")

    run_task(task.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert task.message == "The input was not usable."
    assert task.result["http_status"] == 422
    assert HistoryRecord.objects.get(task=task).result["message"] == "The input was not usable."


@pytest.mark.parametrize(
    ("job", "message", "http_status"),
    [
        ("crashing_job", "ZeroDivisionError", 500),
        # ffmpeg that ran out of disk: the server's failure, not the input's.
        ("encoding_job", "No space left on device", 503),
    ],
)
def test_it_records_a_crash_without_losing_the_task(no_queue, job, message, http_status):
    task = submit(job)

    run_task(task.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert message in task.message
    assert task.result["http_status"] == http_status


def test_it_runs_a_task_only_once(no_queue):
    task = submit("count_job", steps=1, pause=0)
    run_task(task.pk)
    Task.objects.filter(pk=task.pk).update(result={"counted": "first run"})

    run_task(task.pk)

    task.refresh_from_db()
    assert task.result == {"counted": "first run"}


def test_a_task_cancelled_while_queued_never_runs(no_queue):
    task = submit("count_job", steps=1, pause=0)
    task.request_cancel()

    run_task(task.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.CANCELLED
    assert task.result == {}
    assert HistoryRecord.objects.get(task=task).status == "cancelled"


def test_a_running_task_stops_when_asked(no_queue, monkeypatch):
    task = submit("count_job", steps=50, pause=0)
    from monitoring import runner

    original = runner.Progress.flush

    def cancel_at_step_5(self, force=False):
        if "step 5" in self.task.log_tail or any("step 5" == line for line in self._pending_lines):
            Task.objects.filter(pk=self.task.pk).update(cancel_requested=True)
        return original(self, force=True)

    monkeypatch.setattr(runner.Progress, "flush", cancel_at_step_5)

    run_task(task.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.CANCELLED
    assert "step 50" not in task.log_tail


def test_task_ids_stay_unique_within_one_second(no_queue):
    ids = {submit("count_job").pk for _ in range(3)}

    assert len(ids) == 3
    assert all(task_id.startswith("gen_") for task_id in ids)


def test_cleaning_up_a_task_leaves_the_files_of_the_next_id_alone(media_root):
    from django.utils import timezone

    now = timezone.now()
    first, second = (Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, now=now, handler="x", queue="GPU0")
                     for _ in range(2))
    assert second.pk == f"{first.pk}_2"
    (media_root / "tmp").mkdir()
    (media_root / "videos").mkdir()
    files = {
        task: [media_root / "tmp" / f"{task.pk}_0123456789ab_k3j2", media_root / "videos" / f".{task.pk}_0123456789ab.partial.mp4"]
        for task in (first, second)
    }
    for task in files:
        files[task][0].mkdir()
        files[task][1].write_bytes(b"half")

    first.remove_scratch()

    assert not any(path.exists() for path in files[first])
    assert all(path.exists() for path in files[second])


@pytest.mark.parametrize(("claimed", "orphaned"), [("now", False), ("before this process started", True)])
def test_a_running_task_is_orphaned_when_its_pid_now_belongs_to_a_newer_process(claimed, orphaned):
    import os
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.recovery import fail_orphaned_tasks, worker_host

    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="x", queue="GPU0")
    started = timezone.now() if claimed == "now" else timezone.now() - timedelta(days=365)
    Task.objects.filter(pk=task.pk).update(status=Task.Status.RUNNING, started_at=started,
                                           worker_pid=os.getpid(), worker_host=worker_host())

    assert (task.pk in fail_orphaned_tasks()) is orphaned


def test_workers_in_containers_that_share_the_host_name_leave_each_others_tasks_alone(settings):
    """Their pids are numbered apart: another container's pid looks dead here. Each sets WORKER_ID."""
    from monitoring.recovery import fail_orphaned_tasks, worker_host

    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="x", queue="GPU0")
    settings.WORKER_ID = "gpu-box/worker-a"
    task.claim(pid=999999, host=worker_host())  # no such pid here
    settings.WORKER_ID = "gpu-box/worker-b"  # the container next door

    assert fail_orphaned_tasks() == []
    settings.WORKER_ID = "gpu-box/worker-a"  # its own container, restarted
    assert fail_orphaned_tasks() == [task.pk]


def test_a_conditional_finish_never_overwrites_a_task_that_ended_meanwhile():
    task = Task.create_with_unique_id(HistoryType.VIDEO_GENERATION, handler="x", queue="GPU0")
    HistoryRecord.objects.create(type=task.kind, status="running", task=task)
    stale = Task.objects.get(pk=task.pk)
    task.finish(Task.Status.SUCCEEDED, "Done.", {"video_path": "/video/x.mp4"})

    assert stale.finish(Task.Status.FAILED, "worker gone", only_if=Task.Status.RUNNING) is False

    task.refresh_from_db()
    assert task.status == stale.status == Task.Status.SUCCEEDED
    assert HistoryRecord.objects.get(task=task).status == HistoryRecord.Status.COMPLETED


def test_a_job_whose_inputs_were_deleted_while_queued_fails_with_a_clear_message(no_queue):
    task = jobs.submit(HistoryType.VIDEO_GENERATION, "generation.tasks.generate_video",
                       {"avatar_id": "deleted_avatar", "ref_audio_id": "deleted_speaker"}, queue="GPU0")

    run_task(task.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert task.message == "Something this job needs was deleted before it ran (avatar); send the request again."
    assert task.result["http_status"] == 410


def test_queued_tasks_stay_queued_when_the_broker_refuses_them_at_a_worker_start(no_queue, monkeypatch):
    from monitoring.recovery import resend_queued_tasks

    task = submit("count_job")

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", broker_down)

    assert resend_queued_tasks("GPU0") == []
    task.refresh_from_db()
    assert task.status == Task.Status.QUEUED


@pytest.mark.parametrize(("job_timeout", "expected"), [
    (1, "The job was stopped: it ran longer than JOB_TIMEOUT (1 s)."),  # django-q's guard stops it with SIGTERM
    (3600, "The job was stopped: its worker was shut down (the platform was stopped or restarted); "
           "send the request again."),
])
def test_a_stopped_worker_says_whether_the_job_timed_out_or_the_platform_stopped(no_queue, settings, job_timeout,
                                                                                 expected):
    settings.JOB_TIMEOUT = job_timeout
    task = submit("stopped_job", seconds=0.1)

    with pytest.raises(SystemExit):
        run_task(task.pk)

    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert task.message == expected


def test_a_broker_that_refuses_a_new_task_fails_it_with_a_clear_message(monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", broker_down)

    with pytest.raises(jobs.QueueUnavailable):
        submit("count_job")

    task = Task.objects.get()
    assert task.status == Task.Status.FAILED
    assert task.message == "The job queue is unavailable: broker down"
    assert HistoryRecord.objects.get(task=task).status == HistoryRecord.Status.FAILED


def test_an_error_after_the_broker_took_a_task_does_not_fail_the_job_a_worker_ran(monkeypatch):
    def worker_runs_it_then_the_connection_drops(task):
        run_task(task.pk)
        raise ConnectionError("connection reset")

    monkeypatch.setattr(jobs, "send", worker_runs_it_then_the_connection_drops)

    task = submit("count_job", steps=1, pause=0)

    assert task.status == Task.Status.SUCCEEDED
    assert HistoryRecord.objects.get(task=task).status == HistoryRecord.Status.COMPLETED


def test_failing_to_record_django_qs_id_does_not_fail_the_enqueue(monkeypatch):
    from django.db import OperationalError
    from django.db.models import QuerySet

    real_update = QuerySet.update

    def locked_for_q_task_id(self, **fields):
        if "q_task_id" in fields:
            raise OperationalError("database is locked")
        return real_update(self, **fields)

    monkeypatch.setattr(QuerySet, "update", locked_for_q_task_id)

    task = submit("count_job", steps=1, pause=0)

    assert task.status == Task.Status.SUCCEEDED


def test_progress_says_when_to_stop_and_a_report_then_raises(no_queue):
    from monitoring.errors import JobCancelled
    from monitoring.runner import Progress

    task = submit("count_job")
    task.claim(pid=1, host="test")
    progress = Progress(task).scaled(50, 100)
    assert progress.should_cancel(force=True) is False
    task.request_cancel()

    assert progress.should_cancel(force=True) is True
    with pytest.raises(JobCancelled):
        progress(10, "still going")


def test_a_starting_worker_waits_for_the_database_to_recover_its_queue(no_queue, monkeypatch):
    from django.db import OperationalError

    from monitoring import recovery

    task = submit("count_job")
    answers = iter([OperationalError("could not connect to server"), None, None])
    real_fail_orphaned = recovery.fail_orphaned_tasks

    def database_down_at_first():
        answer = next(answers)
        if answer is not None:
            raise answer
        return real_fail_orphaned()

    monkeypatch.setattr(recovery, "fail_orphaned_tasks", database_down_at_first)
    monkeypatch.setattr(recovery.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(recovery.connections, "close_all", lambda: None)  # the test database stays open
    sent = []
    monkeypatch.setattr(jobs, "send", lambda queued: sent.append(queued.pk))
    monkeypatch.setattr("django_q.conf.Conf.CLUSTER_NAME", "GPU0")

    recovery.on_worker_spawn(sender=None, proc_name="Worker-1")

    assert sent == [task.pk]


def test_a_sweep_sends_again_only_the_tasks_queued_before_it(no_queue, monkeypatch):
    from django.utils import timezone

    from monitoring.recovery import resend_lost_tasks

    lost, other_queue = submit("count_job"), jobs.submit(HistoryType.VIDEO_GENERATION, "tests.jobs.count_job", {},
                                                         queue="GPU1")
    swept_at = timezone.now().isoformat()
    newer = submit("count_job")
    sent = []
    monkeypatch.setattr(jobs, "send", lambda task: sent.append(task.pk))

    assert resend_lost_tasks("GPU0", swept_at) == [lost.pk]
    assert sent == [lost.pk]
    assert newer.pk not in sent and other_queue.pk not in sent


def test_a_job_whose_task_was_failed_meanwhile_stops_and_leaves_the_row_as_it_ended(no_queue):
    from monitoring.errors import JobCancelled
    from monitoring.recovery import fail_lost_task
    from monitoring.runner import Progress

    task = submit("count_job")
    task.claim(pid=4242, host="a-host-thought-lost")
    progress = Progress(task)
    fail_lost_task(Task.objects.get(pk=task.pk))

    with pytest.raises(JobCancelled):
        progress(50, "still going")

    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert task.message.startswith("Marked failed by staff")
