from django.urls import path

from monitoring import views

urlpatterns = [
    path("api/status", views.StatusView.as_view(), name="api-status"),
    path("api/tasks/<row_id:task_id>", views.TaskDetailView.as_view(), name="api-task"),
    path("api/tasks/<row_id:task_id>/cancel", views.TaskCancelView.as_view(), name="api-task-cancel"),
    path("api/tasks/<row_id:task_id>/retry", views.TaskRetryView.as_view(), name="api-task-retry"),
    path("api/history/<str:history_type>", views.HistoryView.as_view(), name="api-history"),
]
