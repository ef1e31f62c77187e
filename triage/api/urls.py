from django.urls import path

from triage.api import views

urlpatterns = [
    path("triage/train/", views.Train.as_view(), name="api-triage-train"),
]
