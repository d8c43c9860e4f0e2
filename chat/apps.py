from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        from chat.signals import prune_chat
        from monitoring.signals import prune_requested

        prune_requested.connect(prune_chat, dispatch_uid="chat.prune")
