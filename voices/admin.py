from django.contrib import admin

from voices.models import Speaker


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "engine", "status", "owner", "created_at"]
    list_filter = ["engine", "status", "created_at"]
    search_fields = ["id", "name", "owner__username"]
    date_hierarchy = "created_at"

    def delete_queryset(self, request, queryset):
        # Bulk delete skips Model.delete(): remove each speaker's files too.
        for speaker in queryset:
            speaker.delete()
