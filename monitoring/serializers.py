from __future__ import annotations

from rest_framework import serializers

from monitoring.models import HistoryRecord, HistoryType, Task


class TaskSerializer(serializers.Serializer):
    """The shape of a polled task, for the OpenAPI schema (Task.as_polled builds it)."""

    status = serializers.ChoiceField(choices=["success"], help_text="the request's; the task's is task_status")
    task_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=HistoryType.choices)
    task_status = serializers.ChoiceField(choices=Task.Status.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    message = serializers.CharField(allow_blank=True)
    log_tail = serializers.CharField(allow_blank=True)
    gpu = serializers.CharField(allow_blank=True)
    queue = serializers.CharField()
    parameters = serializers.DictField()
    result = serializers.DictField()
    cancel_requested = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds the job ran")


class TaskCancelSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField(help_text="任务已取消 (it was queued) or 已请求取消任务 (it is running)")
    task_id = serializers.CharField()
    task_status = serializers.ChoiceField(choices=Task.Status.choices)


class HistoryItemSerializer(serializers.Serializer):
    """The shape of an /api/history item, for the OpenAPI schema (HistoryRecordQuerySet.listed builds it)."""

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
    mine = serializers.BooleanField(required=False, default=False,
                                    help_text="1: only the caller's own records (staff otherwise see everyone's)")


class GpuSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="NVML's index of the GPU")
    name = serializers.CharField()
    load = serializers.FloatField()
    memory_used = serializers.IntegerField()
    memory_total = serializers.IntegerField()
    temperature = serializers.IntegerField()
    unreported = serializers.ListField(child=serializers.CharField(), required=False,
                                       help_text="figures this GPU does not report (given as 0), e.g. load in MIG mode")


class SystemStatusSerializer(serializers.Serializer):
    cpu_percent = serializers.FloatField()
    memory_percent = serializers.FloatField()
    memory_used = serializers.IntegerField()
    memory_total = serializers.IntegerField()
    disk_percent = serializers.FloatField()
    disk_used = serializers.IntegerField(help_text="bytes used on the media folder's disk")
    disk_total = serializers.IntegerField()
    gpus = GpuSerializer(many=True)
    timestamp = serializers.CharField()
