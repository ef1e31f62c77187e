"""DRF permission classes of the tickets API; the rules are tickets.access's."""

from typing import Any

from rest_framework import permissions

from tickets import access


class MayPushMentions(permissions.BasePermission):
    """Reading mentions is for every signed-in user (filtered by visibility); pushing is for
    api_client accounts and superusers."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return access.may_push_mentions(request.user)
