from django.contrib import admin

from monitoring.admin import KeptWhileJobsUseIt
from training.models import Avatar


@admin.register(Avatar)
class AvatarAdmin(KeptWhileJobsUseIt):
    list_display = ["id", "engine", "status", "epochs", "gpu", "owner", "created_at"]
    list_filter = ["engine", "status", "created_at"]
    search_fields = ["id", "owner__username"]
    date_hierarchy = "created_at"
