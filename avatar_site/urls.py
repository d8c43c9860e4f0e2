from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from avatar_site.views import MediaFileView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("media/<path:path>", MediaFileView.as_view(), name="media-file"),
    path("", include("monitoring.urls")),
    path("", include("voices.urls")),
    path("", include("training.urls")),
    path("", include("generation.urls")),
    path("", include("chat.urls")),
]
