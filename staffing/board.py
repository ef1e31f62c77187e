"""The staff board (issue 16): every desk person's presence and duties now, for the API,
the header and the team lead's pages. A constant number of queries."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from servicedesk import roles
from staffing import roster
from staffing.choices import Duty, PresenceStatus
from staffing.models import StaffMember


@dataclass(frozen=True)
class BoardRow:
    user: Any
    name: str
    status: str
    status_changed_at: datetime | None
    last_seen_at: datetime | None
    duties: list[str]
    out_of_office: bool

    @property
    def status_label(self) -> str:
        return str(PresenceStatus(self.status).label)

    @property
    def duty_labels(self) -> list[str]:
        return [str(Duty(duty).label) for duty in self.duties]


def staff_board(now: datetime) -> list[BoardRow]:
    """Desk staff (CMs, agents, team leads), online first, then by name."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles.STAFF_GROUPS)
        .distinct()
        .order_by("username")
    )
    members = {m.user_id: m for m in StaffMember.objects.filter(user__in=users)}
    duties = roster.on_duty(now)
    absent = roster.absent_user_ids(now.astimezone(roster.desk_time_zone()).date())
    order = {Duty.TRIAGE: 0, Duty.SUPPORT: 1, Duty.REVIEW: 2}
    rows = []
    for user in users:
        member = members.get(user.pk)
        rows.append(
            BoardRow(
                user=user,
                name=user.get_full_name() or user.get_username(),
                status=member.status if member else PresenceStatus.OFFLINE,
                status_changed_at=member.status_changed_at if member else None,
                last_seen_at=member.last_seen_at if member else None,
                duties=sorted(duties.get(user.pk, ()), key=lambda duty: order[duty]),
                out_of_office=user.pk in absent,
            )
        )
    rank = {PresenceStatus.ONLINE: 0, PresenceStatus.AWAY: 1, PresenceStatus.OFFLINE: 2}
    return sorted(rows, key=lambda row: (rank[row.status], row.name.lower()))


def on_duty_now(now: datetime) -> dict[str, list[str]]:
    """Duty → the names of the people holding it now (the header)."""
    names: dict[str, list[str]] = {duty: [] for duty in Duty.values}
    for row in staff_board(now):
        for duty in row.duties:
            names[duty].append(row.name)
    return names
