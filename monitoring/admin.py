from __future__ import annotations

from pathlib import Path

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avatar_site.lib.errors import Conflict, ServiceUnavailable
from monitoring import accounts, jobs
from monitoring.models import EngineReport, HistoryRecord, Task
from monitoring.recovery import fail_lost_task


class ViewAndDeleteOnly(admin.ModelAdmin):
    """Rows the platform writes (tasks, history, avatars, voices, recordings, conversations) are
    viewed and deleted here, never added or edited: a change page saved after its job had moved on
    would put back the state it showed (a cancelled task or training "running" again, with no
    worker), a changed id or file path would point the row's deletion at another row's files, and
    an added row would have no files or job behind it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TranslatedChoices(admin.ChoicesFieldListFilter):
    """A status filter whose labels are the spec's Chinese ones, kept untranslated in the model for
    the API (``gettext_noop``): shown in the admin's language."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            yield {**choice, "display": _(str(choice["display"]))}


class TranslatedStatus(admin.ModelAdmin):
    """The same for the status column (``status_label`` in list_display) and filter."""

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_label(self, obj):
        return _(obj.get_status_display())


class RefusesDeletingInUse(admin.ModelAdmin):
    """Rows a queued or running job still uses (``in_use``) are not deleted. Both confirmation
    pages (a row's own and "Delete selected") name them and what uses them (``in_use_label``)
    instead of offering the deletion; delete_queryset skips them too (they may have become busy
    since the page was shown)."""

    delete_confirmation_template = "admin/delete_in_use.html"
    delete_selected_confirmation_template = "admin/delete_selected_in_use.html"

    def in_use(self, obj) -> bool:
        raise NotImplementedError

    def in_use_label(self, obj) -> str:
        """How the confirmation page names a row in use: what uses it, so staff know what to cancel."""
        return str(obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        busy = [self.in_use_label(obj) for obj in objs if self.in_use(obj)]
        return deleted, counts, perms_needed, [*protected, *busy]


@admin.register(Task)
class TaskAdmin(ViewAndDeleteOnly, RefusesDeletingInUse):
    list_display = ["id", "kind", "status", "progress", "queue", "owner", "created_at", "finished_at", "message"]
    list_select_related = ["owner"]
    list_filter = ["kind", "status", "queue", "created_at"]
    search_fields = ["id", "message", "queue", "owner__username"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "started_at", "finished_at", "q_task_id", "worker_pid"]
    # Django's "Delete selected" (with its confirmation page) goes through delete_queryset below.
    actions = ["cancel_tasks", "retry_tasks", "fail_lost_tasks"]

    def has_manage_permission(self, request):
        """Cancel, retry, mark failed: the admin edits no task, so these ask for Django's change permission."""
        return request.user.has_perm(f"{Task._meta.app_label}.change_task")

    @admin.action(description=gettext_lazy("Cancel selected tasks"), permissions=["manage"])
    def cancel_tasks(self, request, queryset):
        asked, ended = [], []
        for task in queryset:
            (asked if task.request_cancel() else ended).append(task.pk)
        if asked:
            self.message_user(request, _("Asked to stop: %(tasks)s.") % {"tasks": ", ".join(asked)})
        if ended:
            self.message_user(request, _("Not cancelled (they had ended already): %(tasks)s.")
                              % {"tasks": ", ".join(ended)}, messages.WARNING)

    @admin.action(description=gettext_lazy("Mark selected running tasks failed: their worker's host is gone"),
                  permissions=["manage"])
    def fail_lost_tasks(self, request, queryset):
        failed, kept = [], []
        for task in queryset:
            (failed if fail_lost_task(task) else kept).append(task.pk)
        if failed:
            self.message_user(request, _("Marked failed: %(tasks)s.") % {"tasks": ", ".join(failed)})
        if kept:
            self.message_user(request, _("Not marked (not running, or its worker still runs on this host): "
                                         "%(tasks)s.") % {"tasks": ", ".join(kept)}, messages.WARNING)

    @admin.action(description=gettext_lazy("Retry selected failed or cancelled tasks"), permissions=["manage"])
    def retry_tasks(self, request, queryset):
        retried, refused = [], []
        ended = [Task.Status.FAILED, Task.Status.CANCELLED]
        for task in queryset.filter(status__in=ended):
            if reason := jobs.retry_refusal(task):  # a voice clone, a retry under way, a queue gone
                refused.append(reason)
            else:
                retried.append(jobs.retry(task).pk)
        if retried:
            self.message_user(request, _("Queued again as %(tasks)s.") % {"tasks": ", ".join(retried)})
        not_ended = list(queryset.exclude(status__in=ended).values_list("pk", flat=True))
        if not_ended:
            self.message_user(request, _("Not retried (only failed or cancelled tasks are): %(tasks)s.")
                              % {"tasks": ", ".join(not_ended)}, messages.WARNING)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    def in_use(self, task):
        return task.status == Task.Status.RUNNING  # it still writes its files and rows: cancel it first

    def delete_model(self, request, obj):
        if not obj.discard():
            self.message_user(request, _("%(pk)s is running: cancel it first.") % {"pk": obj.pk}, messages.ERROR)

    def delete_queryset(self, request, queryset):
        kept = [task.pk for task in queryset if not task.discard()]
        if kept:
            self.message_user(request, _("Still running, not deleted: %(tasks)s. Cancel them first.")
                                       % {"tasks": ", ".join(kept)}, messages.ERROR)


@admin.register(EngineReport)
class EngineReportAdmin(admin.ModelAdmin):
    """What each worker host last said it can run for its queue (at its workers' start, or when a
    job found an engine unusable); only the newest report of each GPU queue counts."""

    list_display = ["queue", "host", "reported_at", "usable"]
    list_filter = ["queue", "host"]
    readonly_fields = ["host", "queue", "engines", "reported_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=gettext_lazy("usable engines"))
    def usable(self, report):
        return ", ".join(path.rsplit(".", 1)[-1] for path, reason in report.engines.items() if reason == "") or "-"


@admin.register(HistoryRecord)
class HistoryRecordAdmin(ViewAndDeleteOnly, RefusesDeletingInUse):
    list_display = ["id", "type", "status", "created_at", "seconds", "task", "owner"]
    list_select_related = ["task", "owner"]
    list_filter = ["type", "status", "created_at"]
    search_fields = ["task__id", "owner__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["task"]
    # Django's "Delete selected" goes through delete_queryset: a record goes with its finished task
    # and that task's output files; records of queued or running tasks stay until the task ends.

    def in_use(self, record):
        return record.task is not None and not record.task.is_finished

    def get_deleted_objects(self, objs, request):
        """Name, on the confirmation page, the finished tasks and output files that go with the rows."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for record in objs:
            task = record.task
            if task is not None and task.is_finished:
                files = ", ".join(Path(name).name for name in task.result.get("files", [])) or "-"
                deleted.append(_("Task %(task)s and its output files: %(files)s") % {"task": task.pk, "files": files})
                counts[Task._meta.verbose_name_plural] = counts.get(Task._meta.verbose_name_plural, 0) + 1
        return deleted, counts, perms_needed, protected

    @admin.display(description=gettext_lazy("duration"), ordering="duration")
    def seconds(self, record):
        return "-" if record.duration is None else f"{record.duration:.1f} s"

    def delete_model(self, request, obj):
        self.delete_queryset(request, HistoryRecord.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        kept = queryset.filter(task__status__in=Task.UNFINISHED).count()
        for record in queryset.exclude(task__status__in=Task.UNFINISHED).select_related("task"):
            if record.task:
                record.task.discard()
            record.delete()
        if kept:
            self.message_user(request, _("Kept %(kept)s record(s) of unfinished tasks: cancel the tasks first.")
                                       % {"kept": kept}, messages.ERROR)


class KeptWhileJobsUseIt(ViewAndDeleteOnly, RefusesDeletingInUse):
    """Admin of rows that queued or running jobs read (avatars, speakers, conversations,
    recordings; their models list the task parameters naming them, ``task_parameters``): those
    are not deleted, since the job would fail half-way."""

    def jobs_using(self, obj):
        return Task.objects.unfinished_naming(obj)

    def in_use(self, obj):
        return self.jobs_using(obj).exists()

    def in_use_label(self, obj):
        tasks = ", ".join(self.jobs_using(obj).values_list("pk", flat=True)[:10])
        return _("%(row)s (used by %(tasks)s)") % {"row": obj, "tasks": tasks}

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # One by one: each row's delete() removes its files too (a bulk delete would not).
        kept = []
        for obj in queryset:
            try:
                jobs.delete_unless_used(obj, str(obj.pk))
            except Conflict:
                kept.append(str(obj.pk))
            except ServiceUnavailable as exc:  # its files cannot be removed: it stays
                self.message_user(request, str(exc.detail), messages.ERROR)
        if kept:
            self.message_user(request, _("Used by queued or running tasks, not deleted: %(rows)s. "
                                         "Cancel those tasks first.") % {"rows": ", ".join(kept)}, messages.ERROR)


class AccountAdmin(RefusesDeletingInUse, UserAdmin):
    """Deleting a user deletes what they own, files included (monitoring/accounts.py), and the
    confirmation page counts it; not while any of it is in use, nor by staff who may not delete
    those kinds of rows themselves."""

    def in_use(self, user):
        return bool(accounts.blockers(user))

    def in_use_label(self, user):
        return _("%(user)s (in use: %(busy)s)") % {"user": user, "busy": ", ".join(accounts.blockers(user)[:10])}

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for user in objs:
            for model, count in accounts.contents(user).items():
                name = str(model._meta.verbose_name_plural)
                counts[name] = counts.get(name, 0) + count
                if not request.user.has_perm(f"{model._meta.app_label}.delete_{model._meta.model_name}"):
                    perms_needed.add(model._meta.verbose_name)  # as Django does for what a deletion cascades to
        return deleted, counts, perms_needed, protected

    def log_deletions(self, request, queryset):
        """Logged by delete_queryset, for the accounts that really went."""

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        deleted = []
        for user in queryset:
            pk = user.pk
            try:
                accounts.delete_account(user)
            except (Conflict, ServiceUnavailable) as exc:
                request.accounts_kept = True
                self.message_user(request, str(exc.detail), messages.ERROR)
                continue
            user.pk = pk  # cleared by the deletion; the log entry names the account that went
            super().log_deletions(request, [user])
            deleted.append(str(user))
        if deleted and getattr(request, "accounts_kept", False):
            self.message_user(request, _("Deleted: %(accounts)s.") % {"accounts": ", ".join(deleted)})

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        # "Delete selected" then says "Successfully deleted N users", N being those selected: when
        # some were kept, delete_queryset has named those that went instead.
        if level == messages.SUCCESS and getattr(request, "accounts_kept", False):
            return
        super().message_user(request, message, level, *args, **kwargs)

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "accounts_kept", False):  # not "deleted successfully": back to the account
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[obj_id]))
        return super().response_delete(request, obj_display, obj_id)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), AccountAdmin)
