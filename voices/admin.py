from django.contrib import admin

from monitoring.admin import KeptWhileJobsUseIt
from voices.models import Speaker


@admin.register(Speaker)
class SpeakerAdmin(KeptWhileJobsUseIt):
    list_display = ["id", "name", "engine", "status", "owner", "created_at"]
    list_filter = ["engine", "status", "created_at"]
    search_fields = ["id", "name", "owner__username"]
    date_hierarchy = "created_at"
