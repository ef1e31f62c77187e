"""Who may use the monitoring API (DESIGN §1): channels are for superusers."""

from typing import Any

from rest_framework import permissions


class IsSuperuser(permissions.BasePermission):
    """Channels are configured by superusers only."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_superuser)
