from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = gettext_lazy("Video generation")

    def ready(self):
        from avatar_site.lib import media_access
        from generation.renderer import may_read_video
        from monitoring import pruning

        media_access.register("videos", may_read_video)
        pruning.register_output_folder("videos")
