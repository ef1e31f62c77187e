"""Root URLs: the browser workspace, the REST API and its docs, the admin, health."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from servicedesk import views


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability (used by docker-compose and load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("servicedesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP);
    # Swagger UI draws its icons from data: images, allowed on this page only.
    path(
        "api/docs/",
        csp_update({"img-src": ["data:"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("", views.home, name="home"),
    path("account/", views.account, name="account"),
    path("accounts/login/", views.DeskLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/qr.svg", views.two_factor_qr, name="two_factor_qr"),
    path("privacy/", include("privacy.urls")),
    path("triage/", include("triage.urls")),
    path("", include("tickets.urls")),
]

# Under /api/ Django's own error answers are JSON too (DESIGN §6).
# Pages get the desk's own (German) templates/400.html, 403.html, 404.html and 500.html.
handler400 = "servicedesk.api.bad_request"
handler403 = "servicedesk.api.permission_denied"
handler404 = "servicedesk.api.page_not_found"
handler500 = "servicedesk.api.server_error"
