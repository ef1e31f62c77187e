"""The header's presence switch and "who is on which duty now" (issue 16).

The caller's own status is one query; the duty summary is cached for 30 s (it changes with
the roster's hours, not per request) and read afresh if the cache is down."""

import logging
from typing import Any

from django import template
from django.core.cache import cache
from django.utils import timezone

from servicedesk import roles
from staffing import board
from staffing.choices import Duty, PresenceStatus
from staffing.models import StaffMember

logger = logging.getLogger(__name__)
register = template.Library()
DUTY_CACHE_SECONDS = 30
DUTY_CACHE_KEY = "staffing:on-duty"


def _on_duty() -> dict[str, list[str]]:
    try:
        cached = cache.get(DUTY_CACHE_KEY)
    except Exception:
        logger.warning("duty summary not cached", exc_info=True)
        cached = None
    if cached is not None:
        return cached
    summary = board.on_duty_now(timezone.now())
    try:
        cache.set(DUTY_CACHE_KEY, summary, timeout=DUTY_CACHE_SECONDS)
    except Exception:
        logger.warning("duty summary not cached", exc_info=True)
    return summary


@register.simple_tag
def presence_header(user: Any) -> dict[str, Any] | None:
    """{"status", "statuses", "duties": [(label, names)]} for desk staff, else None."""
    if not roles.is_desk_staff(user):
        return None
    status = (
        StaffMember.objects.filter(user_id=user.pk).values_list("status", flat=True).first()
        or PresenceStatus.OFFLINE
    )
    summary = _on_duty()
    return {
        "status": status,
        "status_label": PresenceStatus(status).label,
        "statuses": PresenceStatus.choices,
        "duties": [(Duty(duty).label, summary.get(duty, [])) for duty in Duty.values],
    }
