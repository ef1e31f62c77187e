"""The header's presence switch (issue 16): the caller's own status, one query. Who is on
which duty now is loaded into the header by htmx (`tickets:on_duty`), so pages keep their
query count."""

from typing import Any

from django import template

from servicedesk import roles
from staffing.choices import PresenceStatus
from staffing.models import StaffMember

register = template.Library()


@register.simple_tag
def presence_header(user: Any) -> dict[str, Any] | None:
    """{"status", "status_label", "statuses"} for desk staff, else None."""
    if not roles.is_desk_staff(user):
        return None
    status = (
        StaffMember.objects.filter(user_id=user.pk).values_list("status", flat=True).first()
        or PresenceStatus.OFFLINE
    )
    return {
        "status": status,
        "status_label": PresenceStatus(status).label,
        "statuses": PresenceStatus.choices,
    }
