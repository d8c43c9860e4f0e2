from __future__ import annotations

from django.contrib import admin, messages

from monitoring import jobs
from monitoring.models import HistoryRecord, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress", "queue", "owner", "created_at", "finished_at", "message"]
    list_filter = ["kind", "status", "queue", "created_at"]
    search_fields = ["id", "message", "owner__username"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "started_at", "finished_at", "q_task_id", "worker_pid"]
    actions = ["cancel_tasks", "retry_tasks", "delete_with_files"]

    @admin.action(description="Cancel selected tasks")
    def cancel_tasks(self, request, queryset):
        cancelled = sum(task.request_cancel() for task in queryset)
        self.message_user(request, f"Asked {cancelled} task(s) to stop.")

    @admin.action(description="Retry selected failed or cancelled tasks")
    def retry_tasks(self, request, queryset):
        retried = [jobs.retry(task).pk for task in queryset.filter(status__in=[Task.Status.FAILED, Task.Status.CANCELLED])]
        self.message_user(request, f"Queued again as {', '.join(retried) or 'nothing'}.")

    @admin.action(description="Delete selected tasks and their output files")
    def delete_with_files(self, request, queryset):
        running = queryset.filter(status=Task.Status.RUNNING).count()
        if running:
            self.message_user(request, f"{running} task(s) still running: cancel them first.", messages.ERROR)
            return
        for task in queryset:
            task.delete_result_files()
            task.delete()
        self.message_user(request, "Deleted.")


@admin.register(HistoryRecord)
class HistoryRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "status", "created_at", "duration", "task", "owner"]
    list_filter = ["type", "status", "created_at"]
    search_fields = ["task__id", "owner__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["task"]
    actions = ["delete_with_files"]

    @admin.action(description="Delete selected records and their task's output files")
    def delete_with_files(self, request, queryset):
        for record in queryset.select_related("task"):
            if record.task and record.task.is_finished:
                record.task.delete_result_files()
                record.task.delete()
            record.delete()
        self.message_user(request, "Deleted.")
