from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "voices"

    def ready(self):
        from monitoring.signals import task_finished
        from voices.signals import release_speaker_of_failed_clone

        task_finished.connect(release_speaker_of_failed_clone, dispatch_uid="voices.release_speaker")
