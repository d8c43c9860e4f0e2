from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class VoicesConfig(AppConfig):
    name = "voices"
    verbose_name = gettext_lazy("Voices")

    def ready(self):
        from avatar_site.lib import media_access
        from monitoring import pruning
        from monitoring.signals import prune_requested, task_finished
        from voices.models import may_read_generated_clip, may_read_speaker_file
        from voices.signals import end_of_clone, prune_orphan_voice_folders

        media_access.register("voices/speakers", may_read_speaker_file)
        media_access.register("voices/generated", may_read_generated_clip)
        task_finished.connect(end_of_clone, dispatch_uid="voices.release_speaker")
        prune_requested.connect(prune_orphan_voice_folders, dispatch_uid="voices.prune_folders")
        pruning.register_output_folder("voices/generated")
