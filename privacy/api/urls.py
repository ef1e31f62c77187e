from django.urls import path

from privacy.api import views

urlpatterns = [
    path("customers/", views.CustomerList.as_view(), name="api-customer-list"),
    path("customers/<int:pk>/", views.CustomerDetail.as_view(), name="api-customer-detail"),
    path("customers/<int:pk>/export/", views.CustomerExport.as_view(), name="api-customer-export"),
    path(
        "customers/<int:pk>/erasure/", views.CustomerErasure.as_view(), name="api-customer-erasure"
    ),
    path("erasures/<int:pk>/", views.ErasureDetail.as_view(), name="api-erasure-detail"),
    path("erasures/<int:pk>/confirm/", views.ErasureConfirm.as_view(), name="api-erasure-confirm"),
    path("audit/", views.AuditList.as_view(), name="api-audit"),
]
