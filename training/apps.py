from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = gettext_lazy("Avatars")

    def ready(self):
        from avatar_site.lib import media_access
        from monitoring.signals import prune_requested, task_finished
        from training.models import may_read_avatar_file
        from training.signals import fail_avatar_of_failed_training, prune_failed_avatars, prune_orphan_avatar_folders

        media_access.register("avatars", may_read_avatar_file)
        task_finished.connect(fail_avatar_of_failed_training, dispatch_uid="training.fail_avatar")
        prune_requested.connect(prune_failed_avatars, dispatch_uid="training.prune")
        prune_requested.connect(prune_orphan_avatar_folders, dispatch_uid="training.prune_folders")
