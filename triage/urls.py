from django.urls import path

from triage import views

app_name = "triage"

urlpatterns = [
    path("train/", views.train, name="train"),
]
