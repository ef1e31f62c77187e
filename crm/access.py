"""Who may see and change customers: one place for the customer page, the API and the
actions. Desk staff (CMs, agents, team leads) and superusers see every customer."""

from typing import Any

from django.shortcuts import get_object_or_404

from crm.models import Customer
from servicedesk import roles


def may_see_customers(user: Any) -> bool:
    return roles.is_desk_staff(user) or bool(getattr(user, "is_superuser", False))


def may_merge_customers(user: Any) -> bool:
    """Team leads and agents merge customers (and undo merges)."""
    return roles.is_team_lead(user) or roles.is_support_agent(user)


def get_customer_for_user(user: Any, customer_id: int) -> Customer:
    """The customer if `user` may see customers; otherwise Http404 (missing looks the same)."""
    queryset = Customer.objects.select_related("merged_into")
    if not may_see_customers(user):
        queryset = queryset.none()
    return get_object_or_404(queryset, pk=customer_id)
