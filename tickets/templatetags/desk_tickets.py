"""Template helpers of the tickets app: the notification count of the page header."""

from typing import Any

from django import template

from tickets.models import Notification

register = template.Library()


@register.simple_tag
def unread_notification_count(user: Any) -> int:
    """Unread notifications of `user` (one query, served by a partial index)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.for_user(user).unread().count()
