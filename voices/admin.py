from django.contrib import admin

from monitoring.admin import KeptWhileJobsUseIt, TranslatedChoices, TranslatedStatus
from voices.models import Speaker


@admin.register(Speaker)
class SpeakerAdmin(KeptWhileJobsUseIt, TranslatedStatus):
    list_display = ["id", "name", "engine", "status_label", "owner", "created_at"]
    list_filter = ["engine", ("status", TranslatedChoices), "created_at"]
    list_select_related = ["owner"]
    search_fields = ["id", "name", "owner__username"]
    date_hierarchy = "created_at"
