from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = gettext_lazy("Video generation")
