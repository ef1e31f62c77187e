"""HTML pages of the crm app: the customer page, its notes, consent and merges."""

from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/notes/", views.customer_add_note, name="customer_add_note"),
    path("customers/<int:pk>/consents/", views.customer_record_consent, name="customer_consent"),
    path("customers/<int:pk>/merge/", views.customer_merge, name="customer_merge"),
    path("customer-merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
