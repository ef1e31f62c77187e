"""Input and output of the staffing API (issue 16, point 6). Input derives from StrictInput."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from servicedesk.api_input import StrictInput
from staffing.choices import Duty, PresenceStatus
from staffing.models import RoutingSettings, StaffMember


class PresenceInput(StrictInput):
    status = serializers.ChoiceField(choices=PresenceStatus.choices)


class PresenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=PresenceStatus.choices)
    status_changed_at = serializers.DateTimeField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    duties = serializers.ListField(child=serializers.ChoiceField(choices=Duty.choices))
    out_of_office = serializers.BooleanField()


class RoutingSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingSettings
        fields = ["auto_assign", "max_open_per_agent", "updated_at"]
        read_only_fields = fields


class RoutingSettingsInput(StrictInput):
    auto_assign = serializers.BooleanField(required=False)
    max_open_per_agent = serializers.IntegerField(min_value=1, max_value=100, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise ValidationError(_("Give auto_assign, max_open_per_agent or both."))
        return attrs


class MemberRoutingSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="user_id")

    class Meta:
        model = StaffMember
        fields = ["id", "status", "max_open", "languages", "departments", "channels"]
        read_only_fields = fields


class MemberRoutingInput(StrictInput):
    max_open = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    languages = serializers.ListField(
        child=serializers.CharField(max_length=16), required=False, max_length=50
    )
    departments = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=200
    )
    channels = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=200
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise ValidationError(_("Give max_open, languages, departments or channels."))
        return attrs
