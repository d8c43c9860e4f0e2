from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from avatar_site.lib.ids import RowIdConverter
from avatar_site.views import MediaFileView
from chat.pages import ChatPage
from generation.pages import GenerationPage
from monitoring.pages import HistoryPage, StatusPage
from training.pages import TrainingPage
from voices.pages import VoicesPage

# Before the apps' URLconfs are included: they name their rows' ids <row_id:…>.
register_converter(RowIdConverter, "row_id")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("media/<path:path>", MediaFileView.as_view(), name="media-file"),
    # End-user pages (issue 7); they only call the API below.
    path("", GenerationPage.as_view(), name="page-generation"),
    path("pages/training", TrainingPage.as_view(), name="page-training"),
    path("pages/voices", VoicesPage.as_view(), name="page-voices"),
    path("pages/chat", ChatPage.as_view(), name="page-chat"),
    path("pages/status", StatusPage.as_view(), name="page-status"),
    path("pages/history", HistoryPage.as_view(), name="page-history"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("monitoring.urls")),
    path("", include("voices.urls")),
    path("", include("training.urls")),
    path("", include("generation.urls")),
    path("", include("chat.urls")),
]

handler400 = "avatar_site.views.bad_request"
handler404 = "avatar_site.views.not_found"
handler500 = "avatar_site.views.server_error"
