from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.home, name="home"),
    path("retention/", views.retention, name="retention"),
    path("customers/<int:pk>/", views.customer, name="customer"),
    path("customers/<int:pk>/export/", views.customer_export, name="customer_export"),
    path("customers/<int:pk>/erasure/", views.customer_erasure, name="customer_erasure"),
    path("erasures/<int:pk>/confirm/", views.erasure_confirm, name="erasure_confirm"),
    path("erasures/<int:pk>/cancel/", views.erasure_cancel, name="erasure_cancel"),
]
