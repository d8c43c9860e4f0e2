from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class VoicesConfig(AppConfig):
    name = "voices"
    verbose_name = gettext_lazy("Voices")

    def ready(self):
        from monitoring.signals import prune_requested, task_finished
        from voices.signals import end_of_clone, prune_orphan_voice_folders

        task_finished.connect(end_of_clone, dispatch_uid="voices.release_speaker")
        prune_requested.connect(prune_orphan_voice_folders, dispatch_uid="voices.prune_folders")
