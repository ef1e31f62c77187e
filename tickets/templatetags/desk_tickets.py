"""Template helpers of the tickets app: the notification count of the page header and the
banner of open incidents."""

import logging
from typing import Any

from django import template
from django.core.cache import cache

from tickets.models import Incident, Notification

logger = logging.getLogger(__name__)
register = template.Library()

OPEN_INCIDENTS_CACHE_KEY = "tickets:open-incidents-banner"
OPEN_INCIDENTS_CACHE_SECONDS = 5  # the banner may lag an opening or closing by this much
OPEN_INCIDENTS_SHOWN = 3


@register.simple_tag
def unread_notification_count(user: Any) -> int:
    """Unread notifications of `user` (one query, served by a partial index)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.for_user(user).unread().count()


def _open_incidents() -> list[dict[str, Any]]:
    return list(
        Incident.objects.open()
        .order_by("-opened_at", "-pk")
        .values("pk", "title", "opened_at")[:OPEN_INCIDENTS_SHOWN]
    )


@register.simple_tag
def open_incidents() -> list[dict[str, Any]]:
    """The open incidents for the banner of every CM and agent page: one cached read shared
    by every page for a few seconds (at most one query per page; Redis down: the query)."""
    try:
        cached = cache.get(OPEN_INCIDENTS_CACHE_KEY)
    except Exception:  # the cache only saves a query; it may be down
        logger.warning("cache unavailable for the incident banner")
        return _open_incidents()
    if cached is not None:
        return list(cached)
    found = _open_incidents()
    try:
        cache.set(OPEN_INCIDENTS_CACHE_KEY, found, OPEN_INCIDENTS_CACHE_SECONDS)
    except Exception:
        logger.warning("cache unavailable for the incident banner")
    return found
