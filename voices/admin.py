from django.contrib import admin

from monitoring.admin import KeptWhileJobsUseIt, TranslatedChoices, TranslatedStatus
from voices.models import Speaker, normalise_voice_id


@admin.register(Speaker)
class SpeakerAdmin(KeptWhileJobsUseIt, TranslatedStatus):
    list_display = ["id", "name", "engine", "status_label", "owner", "created_at"]
    list_filter = ["engine", ("status", TranslatedChoices), "created_at"]
    list_select_related = ["owner"]
    search_fields = ["id", "name", "owner__username"]
    date_hierarchy = "created_at"

    def get_search_results(self, request, queryset, search_term):
        # Ids are stored NFKC-normalised: ＡＢＣ finds ABC, as the API does.
        return super().get_search_results(request, queryset, normalise_voice_id(search_term))
