"""Who may use the monitoring API (DESIGN §1): role rules asked through servicedesk.roles."""

from typing import Any

from django.db.models import QuerySet
from rest_framework import permissions

from monitoring.models import Mention
from servicedesk import roles
from tickets.models import DepartmentRequest


def may_push_mentions(user: Any) -> bool:
    """api_client accounts push mentions (and superusers, for integrations and tests)."""
    return bool(user.is_authenticated and (user.is_superuser or roles.is_api_client(user)))


def visible_mentions(user: Any) -> QuerySet[Mention]:
    """Mentions `user` may read: all for those who see every ticket; for a department expert
    only the mentions shared with requests to his departments; none otherwise."""
    if roles.sees_all_tickets(user):
        return Mention.objects.all()
    if roles.is_department_expert(user):
        shared = DepartmentRequest.objects.visible_to(user).values("shared_mentions")
        return Mention.objects.filter(pk__in=shared)
    return Mention.objects.none()


class MayPushMentions(permissions.BasePermission):
    """Reading is for every signed-in user (filtered by visibility); pushing is for
    api_client accounts and superusers."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return may_push_mentions(request.user)


class IsSuperuser(permissions.BasePermission):
    """Channels are configured by superusers only."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_superuser)
