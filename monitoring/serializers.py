from __future__ import annotations

from rest_framework import serializers

from monitoring.models import HistoryRecord, Task


class TaskSerializer(serializers.ModelSerializer):
    """A task as clients poll it; ``status`` stays the spec's success/error, so the task's is ``task_status``."""

    task_id = serializers.CharField(source="id")
    task_status = serializers.CharField(source="status")
    duration = serializers.FloatField(allow_null=True)

    class Meta:
        model = Task
        fields = [
            "task_id", "kind", "task_status", "progress", "message", "log_tail", "gpu", "queue",
            "parameters", "result", "cancel_requested", "created_at", "started_at", "finished_at", "duration",
        ]


class HistoryItemSerializer(serializers.Serializer):
    """The shape of an /api/history item, for the OpenAPI schema (HistoryRecord.as_listed builds it)."""

    id = serializers.CharField(help_text="record_<n>")
    timestamp = serializers.CharField(help_text="YYYY-MM-DD HH:MM:SS")
    parameters = serializers.DictField()
    result = serializers.DictField()
    status = serializers.ChoiceField(choices=HistoryRecord.Status.choices)
    duration = serializers.FloatField(allow_null=True)
    task_id = serializers.CharField(allow_null=True)


class HistoryQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=200, default=20)
    status = serializers.ChoiceField(choices=HistoryRecord.Status.choices, required=False)


class GpuSerializer(serializers.Serializer):
    name = serializers.CharField()
    load = serializers.FloatField()
    memory_used = serializers.IntegerField()
    memory_total = serializers.IntegerField()
    temperature = serializers.IntegerField()


class SystemStatusSerializer(serializers.Serializer):
    cpu_percent = serializers.FloatField()
    memory_percent = serializers.FloatField()
    memory_used = serializers.IntegerField()
    memory_total = serializers.IntegerField()
    disk_percent = serializers.FloatField()
    gpus = GpuSerializer(many=True)
    timestamp = serializers.CharField()
