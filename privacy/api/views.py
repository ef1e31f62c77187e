"""The privacy API (DESIGN §6): customers for desk staff; export, erasure and the access
audit for team leads, privacy officers and superusers (everyone else: 403)."""

from typing import Any

from django.db.models import Prefetch, Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import access as crm_access
from crm.models import Customer, SocialIdentity, normalise_handle
from privacy import access
from privacy.actions import audit, erasure, export
from privacy.api.serializers import (
    AccessLogSerializer,
    CustomerSerializer,
    ErasureInput,
    ErasureSerializer,
    ExportInput,
)
from privacy.choices import AccessKind
from privacy.models import ErasureRequest
from servicedesk.timewindow import validate_moment
from servicedesk.web import note_access


class SeesCustomers(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return crm_access.may_see_customers(request.user)


class HandlesRequests(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return access.may_handle_requests(request.user)


class CustomerFilters(serializers.Serializer):
    handle = serializers.CharField(required=False, max_length=255)
    platform = serializers.CharField(required=False, max_length=128)
    q = serializers.CharField(required=False, max_length=200)


def _customers() -> Any:
    return Customer.objects.prefetch_related(
        Prefetch("identities", queryset=SocialIdentity.objects.order_by("platform", "handle"))
    ).order_by("pk")


@extend_schema(
    summary="Customers (desk staff)",
    parameters=[
        OpenApiParameter("handle", str),
        OpenApiParameter("platform", str),
        OpenApiParameter("q", str, description="part of a name or handle"),
    ],
)
class CustomerList(generics.ListAPIView):
    serializer_class = CustomerSerializer
    permission_classes = [SeesCustomers]
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        filters = CustomerFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        customers = _customers().filter(merged_into__isnull=True)
        identity = Q()
        if "handle" in wanted:
            identity &= Q(handle=normalise_handle(wanted["handle"]))
        if "platform" in wanted:
            identity &= Q(platform=wanted["platform"])
        if identity:
            customers = customers.filter(
                pk__in=SocialIdentity.objects.filter(identity).values("customer_id")
            )
        if wanted.get("q", "").strip():
            text = wanted["q"].strip()
            customers = customers.filter(
                Q(display_name__icontains=text)
                | Q(
                    pk__in=SocialIdentity.objects.filter(
                        Q(handle__startswith=normalise_handle(text))
                        | Q(display_name__icontains=text)
                    ).values("customer_id")
                )
            )
        return customers

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        answer = super().list(request, *args, **kwargs)
        shown = [row["id"] for row in answer.data.get("results", [])]
        note_access(request, AccessKind.SEARCH, customer_ids=shown)
        return answer


@extend_schema(summary="One customer with their identities (desk staff)")
class CustomerDetail(generics.RetrieveAPIView):
    serializer_class = CustomerSerializer
    permission_classes = [SeesCustomers]

    def get_queryset(self) -> Any:
        return _customers()


class CustomerExport(APIView):
    permission_classes = [HandlesRequests]

    @extend_schema(
        request=ExportInput,
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/html"): str},
        summary="Everything the desk holds about the customer (Art. 15), streamed",
    )
    def post(self, request: Request, pk: int) -> Any:
        customer = get_object_or_404(Customer, pk=pk)
        data = ExportInput(data=request.data)
        data.is_valid(raise_exception=True)
        now = timezone.now()
        note_access(request, AccessKind.EXPORT, customer_ids=[customer.pk])
        if data.validated_data.get("format", "json") == "html":
            response = StreamingHttpResponse(
                export.html_chunks(customer, generated_at=now), content_type="text/html"
            )
            name = f"customer-{customer.pk}.html"
        else:
            response = StreamingHttpResponse(
                export.json_chunks(customer, generated_at=now), content_type="application/json"
            )
            name = f"customer-{customer.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response


class CustomerErasure(APIView):
    permission_classes = [HandlesRequests]

    @extend_schema(
        request=ErasureInput,
        responses={201: ErasureSerializer},
        summary="Request the erasure of the customer (Art. 17); a second person confirms",
    )
    def post(self, request: Request, pk: int) -> Response:
        customer = get_object_or_404(Customer, pk=pk)
        data = ErasureInput(data=request.data)
        data.is_valid(raise_exception=True)
        requested = erasure.request_erasure(
            customer, request.user, reason=data.validated_data["reason"], now=timezone.now()
        )
        return Response(ErasureSerializer(requested).data, status=201)


class ErasureConfirm(APIView):
    permission_classes = [HandlesRequests]

    @extend_schema(
        request=None,
        responses={200: ErasureSerializer},
        summary="Confirm an erasure (never its requester); answers it done, with row counts",
    )
    def post(self, request: Request, pk: int) -> Response:
        get_object_or_404(ErasureRequest, pk=pk)
        done = erasure.confirm_erasure(pk, request.user, now=timezone.now())
        return Response(ErasureSerializer(done).data)


class ErasureDetail(generics.RetrieveAPIView):
    serializer_class = ErasureSerializer
    permission_classes = [HandlesRequests]
    queryset = ErasureRequest.objects.select_related("requested_by", "confirmed_by")


class AuditFilters(serializers.Serializer):
    customer = serializers.IntegerField(required=False, min_value=1)
    user = serializers.IntegerField(required=False, min_value=1)
    from_ = serializers.DateTimeField(required=False)
    to = serializers.DateTimeField(required=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("from", "to"):
            validate_moment(attrs.get(name))
        return attrs


@extend_schema(
    summary="The access audit: who saw which customer, ticket, export or search result",
    parameters=[
        OpenApiParameter("customer", int),
        OpenApiParameter("user", int),
        OpenApiParameter("from", OpenApiTypes.DATETIME),
        OpenApiParameter("to", OpenApiTypes.DATETIME),
    ],
)
class AuditList(generics.ListAPIView):
    serializer_class = AccessLogSerializer
    permission_classes = [HandlesRequests]
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        filters = AuditFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        return audit.entries(
            customer_id=wanted.get("customer"),
            user_id=wanted.get("user"),
            since=wanted.get("from"),
            until=wanted.get("to"),
        )
