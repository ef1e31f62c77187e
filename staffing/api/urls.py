"""Routes of the staffing API under /api/v1/ (issue 16)."""

from django.urls import path

from staffing.api import views

urlpatterns = [
    path("presence/", views.PresenceView.as_view(), name="api-presence"),
    path("routing/", views.RoutingSettingsView.as_view(), name="api-routing"),
    path("users/<int:pk>/routing/", views.MemberRoutingView.as_view(), name="api-member-routing"),
]
