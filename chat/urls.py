from django.urls import path

from chat import views

urlpatterns = [
    path("save_audio", views.SaveAudioView.as_view(), name="save-audio"),
    path("chat_system", views.ChatSystemView.as_view(), name="chat-system"),
]
