from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = gettext_lazy("Voice chat")

    def ready(self):
        from avatar_site.lib import media_access
        from chat.models import may_read_recording
        from chat.signals import drop_turn_of_failed_chat, prune_chat
        from monitoring import pruning
        from monitoring.signals import prune_requested, task_finished

        media_access.register("chat/recordings", may_read_recording)
        prune_requested.connect(prune_chat, dispatch_uid="chat.prune")
        task_finished.connect(drop_turn_of_failed_chat, dispatch_uid="chat.drop_failed_turn")
        pruning.register_scratch_folder("chat/uploads")
