from django.contrib import admin

from chat.models import Conversation, Recording, Turn
from monitoring.admin import KeptWhileJobsUseIt


class TurnInline(admin.TabularInline):
    model = Turn
    extra = 0
    readonly_fields = ["question", "answer", "task", "created_at"]


@admin.register(Conversation)
class ConversationAdmin(KeptWhileJobsUseIt):
    list_display = ["id", "owner", "created_at"]
    list_select_related = ["owner"]
    list_filter = ["created_at"]
    search_fields = ["id", "owner__username", "turns__question", "turns__answer"]
    inlines = [TurnInline]


@admin.register(Recording)
class RecordingAdmin(KeptWhileJobsUseIt):
    list_display = ["id", "original_name", "duration", "owner", "created_at"]
    list_select_related = ["owner"]
    list_filter = ["created_at"]
    search_fields = ["id", "original_name", "owner__username"]
