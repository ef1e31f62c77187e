"""Input and output of the privacy API (inputs strict: servicedesk.api_input)."""

from typing import Any

from rest_framework import serializers

from crm.models import Customer, SocialIdentity
from privacy.models import AccessLog, ErasureRequest
from servicedesk.api_input import StrictInput


class ExportInput(StrictInput):
    format = serializers.ChoiceField(choices=["json", "html"], required=False)  # default json


class ErasureInput(StrictInput):
    reason = serializers.CharField(max_length=2000, allow_blank=True, default="")


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = SocialIdentity
        fields = ["id", "platform", "handle", "display_name", "platform_user_id", "created_at"]


class CustomerSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "display_name", "created_at", "merged_into", "identities"]


class ErasureSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ErasureRequest
        fields = [
            "id",
            "customer",
            "status",
            "reason",
            "requested_by",
            "requested_at",
            "confirmed_by",
            "confirmed_at",
            "finished_at",
            "counts",
        ]


class AccessLogSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    ticket = serializers.IntegerField(source="ticket_id", read_only=True)

    class Meta:
        model = AccessLog
        fields = ["id", "at", "user", "kind", "customer", "ticket", "path"]

    def to_representation(self, instance: Any) -> Any:
        return super().to_representation(instance)
