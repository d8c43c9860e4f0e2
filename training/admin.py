from django.contrib import admin

from monitoring.admin import KeptWhileJobsUseIt, TranslatedChoices, TranslatedStatus
from training.models import Avatar


@admin.register(Avatar)
class AvatarAdmin(KeptWhileJobsUseIt, TranslatedStatus):
    list_display = ["id", "name", "engine", "status_label", "epochs", "gpu", "owner", "created_at"]
    list_filter = ["engine", ("status", TranslatedChoices), "created_at"]
    list_select_related = ["owner"]
    search_fields = ["id", "name", "owner__username"]
    date_hierarchy = "created_at"
