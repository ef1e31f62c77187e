"""The REST API under /api/v1/ (DESIGN §6)."""

from django.urls import include, path

urlpatterns = [
    path("", include("monitoring.api.urls")),
    path("", include("tickets.api.urls")),
    path("sla/", include("tickets.api.sla_urls")),
    path("", include("privacy.api.urls")),
    path("", include("staffing.api.urls")),
    path("", include("triage.api.urls")),
]
