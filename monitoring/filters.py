"""django-filter FilterSets of the monitoring app, shared by the API and HTML views."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget

from monitoring.choices import Platform
from monitoring.models import Channel, Mention
from servicedesk.timewindow import validate_moment

MAX_ID = 2**63 - 1  # bigint: larger ids cannot exist and would make PostgreSQL fail


class IdFilter(django_filters.Filter):
    """A primary key: a whole number in the range of a bigint (else 400, never a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class _UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601, converted to UTC, inside the desk's time window (years 2000 to 2100): a
    far-off year may not survive the conversion (400, not 500)."""

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        validate_moment(parsed)  # before the conversion, which may overflow at the edges
        return parsed.astimezone(UTC) if parsed is not None else None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


class _StrictBooleanWidget(BooleanWidget):
    """true/false (also 1/0); anything else reaches the field as text, to be refused."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = data.get(name)
        if value in (None, ""):
            return None
        mapped = {"true": True, "false": False, "1": True, "0": False}.get(str(value).lower())
        return value if mapped is None else mapped


class _StrictBooleanField(forms.NullBooleanField):
    def to_python(self, value: Any) -> bool | None:
        if isinstance(value, str):
            raise ValidationError(_("Enter true or false."), code="invalid")
        return value

    def validate(self, value: Any) -> None:
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean query parameter: `true` or `false`; other values answer 400."""

    field_class = _StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _StrictBooleanWidget)
        super().__init__(*args, **kwargs)


class MentionFilter(django_filters.FilterSet):
    """`channel` (slug), `ticket` (id), `created_after` / `created_before` (the platform's
    time, ISO 8601), `received_after` / `received_before` (arrival at the desk)."""

    channel = django_filters.CharFilter(field_name="channel__slug", max_length=64)
    ticket = IdFilter(field_name="ticket_id")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    received_after = UtcDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = UtcDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Mention
        fields: list[str] = []


class ChannelFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    is_active = StrictBooleanFilter()
    is_healthy = StrictBooleanFilter()

    class Meta:
        model = Channel
        fields: list[str] = []
