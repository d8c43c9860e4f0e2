from django.urls import path

from voices import views

urlpatterns = [
    path("audio_clone", views.AudioCloneView.as_view(), name="audio-clone"),
    path("api/cloned-audios", views.ClonedAudioListView.as_view(), name="api-cloned-audios"),
    path("api/cloned-audios/<row_id:audio_id>", views.ClonedAudioView.as_view(), name="api-cloned-audio"),
]
