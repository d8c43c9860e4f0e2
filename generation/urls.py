from django.urls import path

from generation import views

urlpatterns = [
    path("video_generation", views.VideoGenerationView.as_view(), name="video-generation"),
    path("video/<path:filename>", views.VideoFileView.as_view(), name="video-file"),
]
