from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"

    def ready(self):
        from monitoring.signals import task_finished
        from training.signals import fail_avatar_of_failed_training

        task_finished.connect(fail_avatar_of_failed_training, dispatch_uid="training.fail_avatar")
