"""The SLA API: the dashboard's figures (`GET /api/v1/sla/summary/`, team leads and
superusers) and the SLA policies (`GET /api/v1/sla/policies/`, `PATCH
/api/v1/sla/policies/{id}/`, superusers). Thin: the figures come from tickets.reports through
the dashboard's filter form, policy changes go through `actions.update_sla_policy`."""

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk import roles
from servicedesk.api_input import StrictInput
from tickets import actions, reports
from tickets.forms_dashboard import DashboardFilterForm
from tickets.models import SlaPolicy


class MayViewDashboard(BasePermission):
    """Team leads and superusers (403 for everyone else who is signed in)."""

    message = _("Only team leads see the SLA figures.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.may_view_dashboard(request.user)


class IsSuperuser(BasePermission):
    message = _("Only administrators manage SLA policies.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_superuser)


# --------------------------------------------------------------------------- summary


class OutcomeSerializer(serializers.Serializer):
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="met ÷ (met + breached)")


class ComplianceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    today = OutcomeSerializer()
    days_7 = OutcomeSerializer()
    days_30 = OutcomeSerializer()
    range = OutcomeSerializer()


class ResponseTimeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    stopped = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)
    perceived_median_seconds = serializers.FloatField(allow_null=True)
    perceived_p90_seconds = serializers.FloatField(allow_null=True)


class CountsSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="open tickets")
    at_risk = serializers.IntegerField(help_text="running clocks warned, not breached")
    breached = serializers.IntegerField(help_text="running clocks past their deadline")


class SummarySerializer(serializers.Serializer):
    date_from = serializers.DateField(source="filters.date_from")
    date_to = serializers.DateField(source="filters.date_to")
    channel = serializers.CharField(allow_null=True)
    compliance = ComplianceSerializer(many=True)
    counts = CountsSerializer()
    response_times = ResponseTimeSerializer(many=True)


class SlaSummaryView(APIView):
    """The dashboard's SLA figures for `from`/`to` (desk dates, default the last 30 days)
    and an optional `channel` (slug)."""

    permission_classes = [MayViewDashboard]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="first desk day (YYYY-MM-DD)"),
            OpenApiParameter("to", str, description="last desk day (YYYY-MM-DD)"),
            OpenApiParameter("channel", str, description="channel slug"),
        ],
        responses=SummarySerializer,
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        params = {key: request.query_params.get(key) for key in ("from", "to", "channel")}
        form = DashboardFilterForm(
            {key: value for key, value in params.items() if value is not None}, now=now
        )
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        filters = form.filters()
        with reports.report_session():
            summary = reports.sla_summary(filters, now=now)
        channel = form.cleaned_data.get("channel")
        payload = {
            "filters": filters,
            "channel": channel.slug if channel else None,
            "compliance": [
                {key: value for key, value in row.items() if key != "label"}
                for row in summary["compliance"]
            ],
            "counts": summary["counts"],
            "response_times": summary["response_times"],
        }
        return Response(SummarySerializer(payload).data)


# --------------------------------------------------------------------------- policies


class SlaPolicySerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = SlaPolicy
        fields = ["id", "kind", "department", "target_seconds", "warn_percent", "updated_at"]
        read_only_fields = fields


class SlaPolicyInput(StrictInput):
    target_seconds = serializers.IntegerField(min_value=1, required=False)
    warn_percent = serializers.IntegerField(min_value=1, max_value=100, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise ValidationError(_("Give target_seconds, warn_percent or both."))
        return attrs


class SlaPolicyListView(GenericAPIView):
    """Every SLA policy (superusers)."""

    permission_classes = [IsSuperuser]
    serializer_class = SlaPolicySerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return SlaPolicy.objects.select_related("department").order_by("kind", "department_id")

    @extend_schema(operation_id="v1_sla_policies_list", responses=SlaPolicySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(self.get_queryset(), many=True).data)


class SlaPolicyDetailView(GenericAPIView):
    """One policy; PATCH `target_seconds` and/or `warn_percent` (applies to clocks started
    after the change)."""

    permission_classes = [IsSuperuser]
    serializer_class = SlaPolicySerializer

    def get_object(self) -> SlaPolicy:
        return get_object_or_404(
            SlaPolicy.objects.select_related("department"), pk=self.kwargs["pk"]
        )

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=SlaPolicyInput, responses=SlaPolicySerializer)
    def patch(self, request: Request, pk: int) -> Response:
        policy = self.get_object()
        command = SlaPolicyInput(data=request.data)
        command.is_valid(raise_exception=True)
        policy = actions.update_sla_policy(
            policy,
            actor=request.user,
            target_seconds=command.validated_data.get("target_seconds", policy.target_seconds),
            warn_percent=command.validated_data.get("warn_percent", policy.warn_percent),
        )
        return Response(self.get_serializer(policy).data)
