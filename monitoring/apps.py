from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = gettext_lazy("Tasks, history and system status")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save
        from django_q.signals import post_spawn
        from rest_framework.authtoken.models import Token

        from avatar_site.lib.auth import forget_token, forget_user
        from monitoring.engine_reports import report_on_worker_spawn
        from monitoring.recovery import on_worker_spawn

        post_spawn.connect(on_worker_spawn, dispatch_uid="monitoring.fail_orphaned_tasks")
        post_spawn.connect(report_on_worker_spawn, dispatch_uid="monitoring.report_engines")
        post_delete.connect(forget_token, sender=Token, dispatch_uid="auth.forget_token")
        post_save.connect(forget_user, sender=get_user_model(), dispatch_uid="auth.forget_saved_user")
        post_delete.connect(forget_user, sender=get_user_model(), dispatch_uid="auth.forget_deleted_user")
