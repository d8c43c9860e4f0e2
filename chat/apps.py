from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        from chat.signals import drop_turn_of_failed_chat, prune_chat
        from monitoring.signals import prune_requested, task_finished

        prune_requested.connect(prune_chat, dispatch_uid="chat.prune")
        task_finished.connect(drop_turn_of_failed_chat, dispatch_uid="chat.drop_failed_turn")
