from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "voices"

    def ready(self):
        from monitoring.signals import task_finished
        from voices.signals import end_of_clone

        task_finished.connect(end_of_clone, dispatch_uid="voices.release_speaker")
