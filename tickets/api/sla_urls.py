"""Routes of the SLA API under /api/v1/sla/ (DESIGN §6)."""

from django.urls import path

from tickets.api import sla

urlpatterns = [
    path("summary/", sla.SlaSummaryView.as_view(), name="api-sla-summary"),
    path("policies/", sla.SlaPolicyListView.as_view(), name="api-sla-policies"),
    path("policies/<int:pk>/", sla.SlaPolicyDetailView.as_view(), name="api-sla-policy"),
]
