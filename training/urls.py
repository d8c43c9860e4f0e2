from django.urls import path

from training import views

urlpatterns = [
    path("model_training", views.ModelTrainingView.as_view(), name="model-training"),
    path("api/engines", views.EngineListView.as_view(), name="api-engines"),
    path("api/avatars", views.AvatarListView.as_view(), name="api-avatars"),
    path("api/avatars/<row_id:avatar_id>", views.AvatarView.as_view(), name="api-avatar"),
]
