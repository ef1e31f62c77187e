"""django-filter FilterSets of the tickets app, shared by the API and the HTML views, so
"filter by state / stage / breached" means the same everywhere."""

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.filters import IdFilter, StrictBooleanFilter
from tickets.choices import NotificationKind, Priority, Stage, TicketState
from tickets.models import Notification, Ticket

User = get_user_model()


class TicketFilter(django_filters.FilterSet):
    """`state` (repeatable), `stage`, `assignee` (user id), `channel` (slug), `priority`,
    `breached=true` (any recorded breach), `at_risk=true` (warned, not breached)."""

    state = django_filters.MultipleChoiceFilter(choices=TicketState.choices)
    stage = django_filters.ChoiceFilter(choices=Stage.choices, method="filter_stage")
    assignee = IdFilter(field_name="assignee_id")
    channel = django_filters.CharFilter(field_name="channel__slug", max_length=64)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    breached = StrictBooleanFilter(method="filter_breached", label=_("With a recorded SLA breach"))
    at_risk = StrictBooleanFilter(method="filter_at_risk", label=_("Warned, not breached"))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_stage(self, queryset: QuerySet[Ticket], name: str, value: str) -> Any:
        return queryset.in_stage(value) if value else queryset

    def filter_breached(self, queryset: QuerySet[Ticket], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        breached = Ticket.objects.breached().values("pk")
        return queryset.filter(pk__in=breached) if value else queryset.exclude(pk__in=breached)

    def filter_at_risk(self, queryset: QuerySet[Ticket], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        at_risk = Ticket.objects.at_risk(timezone.now()).values("pk")
        return queryset.filter(pk__in=at_risk) if value else queryset.exclude(pk__in=at_risk)


class NotificationFilter(django_filters.FilterSet):
    """`unread=true` for the unread ones only; `kind`."""

    unread = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull")
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices)

    class Meta:
        model = Notification
        fields: list[str] = []
