from __future__ import annotations

from django.core.paginator import EmptyPage
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from avatar_site.lib.errors import Conflict, NotFound
from avatar_site.lib.fields import response_serializer
from monitoring import jobs
from monitoring.models import HistoryRecord, HistoryType, Task
from monitoring.paging import HistoryPaginator
from monitoring.responses import accepted
from monitoring.serializers import (
    HistoryItemSerializer,
    HistoryQuerySerializer,
    SystemStatusSerializer,
    TaskCancelSerializer,
    TaskSerializer,
)
from monitoring.system import system_status


class StatusView(APIView):
    @extend_schema(responses=SystemStatusSerializer)
    def get(self, request):
        return Response(system_status())


#: How a finished task ended, in the reader's words (the API's task_status stays the code).
TASK_ENDINGS = {
    Task.Status.SUCCEEDED: gettext_lazy("succeeded"),
    Task.Status.FAILED: gettext_lazy("failed"),
    Task.Status.CANCELLED: gettext_lazy("cancelled"),
}


def visible_task(request, task_id: str) -> Task:
    task = Task.objects.visible_to(request.user).filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("No task %(task_id)s.") % {"task_id": task_id})
    return task


class TaskDetailView(APIView):
    @extend_schema(responses=TaskSerializer)
    def get(self, request, task_id: str):
        task = visible_task(request, task_id)
        return Response({"status": "success", **task.as_polled()})


class TaskCancelView(APIView):
    @extend_schema(request=None, responses=TaskCancelSerializer)
    def post(self, request, task_id: str):
        task = visible_task(request, task_id)
        try:
            cancelled = task.request_cancel()
        except Task.DoesNotExist:  # deleted meanwhile (the admin)
            raise NotFound(_("No task %(task_id)s.") % {"task_id": task_id}) from None
        if not cancelled:
            raise Conflict(_("Task %(pk)s has already ended (%(status)s).")
                           % {"pk": task.pk, "status": TASK_ENDINGS.get(task.status, task.status)})
        message = "任务已取消" if task.status == Task.Status.CANCELLED else "已请求取消任务"
        return Response({"status": "success", "message": message, "task_id": task.pk, "task_status": task.status})


class TaskRetryView(APIView):
    """Not in the spec: a failed or cancelled task of one's own runs again as a new task."""

    @extend_schema(request=None, responses={202: response_serializer("TaskRetried", task_id=serializers.CharField(),
                                                                     status_url=serializers.CharField())})
    def post(self, request, task_id: str):
        task = visible_task(request, task_id)
        if reason := jobs.retry_refusal(task):
            raise Conflict(reason)
        return accepted(jobs.retry(task), _("Queued again; follow it at status_url."))


HistoryPageSerializer = inline_serializer(
    "HistoryPage",
    {
        "status": serializers.CharField(),
        "history": HistoryItemSerializer(many=True),
        "total_count": serializers.IntegerField(),
        "page": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "num_pages": serializers.IntegerField(),
    },
)


class HistoryView(APIView):
    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistoryPageSerializer)
    def get(self, request, history_type: str):
        if history_type not in HistoryType.values:
            raise NotFound(_("Unknown history type %(history_type)r; use one of %(values)s.")
                           % {"history_type": history_type, "values": ', '.join(HistoryType.values)})
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        records = HistoryRecord.objects.visible_to(request.user).filter(type=history_type)
        mine = query.validated_data["mine"] or not request.user.is_staff
        if mine:
            records = records.filter(owner=request.user)
        status = query.validated_data.get("status")
        if status:
            records = records.filter(status=status)
        count_key = f"{request.user.pk if mine else 'staff'}:{history_type}:{status or ''}"
        paginator = HistoryPaginator(records, query.validated_data["page_size"], count_key)
        number = query.validated_data["page"]
        try:
            rows = paginator.page(number).object_list.listed()
        except EmptyPage:  # past the last page: none (a client paging until the list is empty stops)
            rows = []
        return Response(
            {
                "status": "success",
                "history": rows,
                "total_count": paginator.count,
                "page": number,
                "page_size": paginator.per_page,
                "num_pages": paginator.num_pages,
            }
        )


class OwnRowDeleteView(APIView):
    """A user deleting one of their own voices or avatars (the admin's rule: jobs.delete_unless_used)."""

    model = None
    noun = ""
    lookup_kwarg = ""  # the URL's name for the id, as the API documents it
    deleted_message = ""

    @staticmethod
    def row_id(text: str) -> str:
        """The row's id as the URL gives it (a model may normalise ids it stores)."""
        return text

    @extend_schema(
        description="Delete one of your own (staff: anyone's) with its files. 404 for one you may not see, "
                    "409 while a queued or running task uses it.",
        responses={200: response_serializer("Deleted")},
    )
    def delete(self, request, **kwargs):
        pk = self.row_id(kwargs[self.lookup_kwarg])
        row = self.model.objects.visible_to(request.user).filter(pk=pk).first()
        if row is None:
            raise NotFound(_("No %(noun)s %(pk)r.") % {"noun": self.noun, "pk": pk})
        jobs.delete_unless_used(row, f"{capfirst(self.noun)} {pk}")
        return Response({"status": "success", "message": self.deleted_message})
