from django.contrib import admin

from training.models import Avatar


@admin.register(Avatar)
class AvatarAdmin(admin.ModelAdmin):
    list_display = ["id", "engine", "status", "epochs", "gpu", "owner", "created_at"]
    list_filter = ["engine", "status", "created_at"]
    search_fields = ["id", "owner__username"]
    date_hierarchy = "created_at"

    def delete_queryset(self, request, queryset):
        for avatar in queryset:
            avatar.delete()
