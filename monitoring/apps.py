from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Tasks, history and system status"

    def ready(self):
        from django_q.signals import post_spawn

        from monitoring.recovery import on_worker_spawn

        post_spawn.connect(on_worker_spawn, dispatch_uid="monitoring.fail_orphaned_tasks")
