"""HTML pages of the guidelines app: the social media guidelines page and its editor."""

from django.urls import path

from guidelines import views

app_name = "guidelines"

urlpatterns = [
    path("guidelines/", views.guidelines_page, name="page"),
    path("guidelines/edit/", views.guidelines_page_edit, name="page_edit"),
]
