"""Every write of the staffing app (issue 16): presence, the desk's routing settings, a
person's capacity and skills, weekly shifts (the demo's roster; the admin edits them too).

A presence change that matters to routing (someone became online, or stopped being online)
enqueues `tickets.tasks.presence_changed_task` after the commit; the tickets app then returns
that person's untaken cases or routes waiting ones. The routing sweep does the same work every
few seconds, so a lost message only delays it.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext as _

from servicedesk import roles
from servicedesk.errors import InvalidArgument, NotAllowedForRole
from servicedesk.queue import enqueue_on_commit
from staffing import roster
from staffing.choices import Duty, PresenceSource, PresenceStatus, Weekday
from staffing.models import RoutingSettings, Shift, StaffMember

logger = logging.getLogger(__name__)
PRESENCE_CHANGED_TASK = "tickets.tasks.presence_changed_task"
SETTINGS_PK = 1


ACTIVITY_WRITE_SECONDS = 60


def activity_key(user_id: int) -> str:
    return f"staffing:seen:{user_id}"


def note_activity_written(user_id: int) -> None:
    try:
        cache.set(activity_key(user_id), 1, timeout=ACTIVITY_WRITE_SECONDS)
    except Exception:  # the cache only saves writes: fail open
        logger.warning("activity throttle not set", exc_info=True)


def activity_write_due(user_id: int) -> bool:
    """Whether a request of this person should write `last_seen_at` (once a minute)."""
    try:
        return bool(cache.add(activity_key(user_id), 1, timeout=ACTIVITY_WRITE_SECONDS))
    except Exception:  # the cache only saves writes: fail open
        return True


def routing_settings() -> RoutingSettings:
    """The desk's routing settings (created with the defaults on first use)."""
    found, _created = RoutingSettings.objects.get_or_create(pk=SETTINGS_PK)
    return found


ROUTING_STATE_FIELDS = [field.attname for field in RoutingSettings._meta.concrete_fields]
ROUTING_STATE_SQL = (
    "SELECT "
    + ", ".join(f"s.{field.column}" for field in RoutingSettings._meta.concrete_fields)
    + f", ({roster.VERSION_SQL}) FROM {RoutingSettings._meta.db_table} s WHERE s.id = %s"
)


def routing_state() -> tuple[RoutingSettings, str]:
    """The desk's routing settings and the roster's version (staffing.roster.VERSION_SQL),
    in one statement: what every routing decision reads first. Written out (not the ORM):
    compiling the annotated query cost more CPU than the statement (bench/routing.py)."""
    with connection.cursor() as cursor:
        cursor.execute(ROUTING_STATE_SQL, [SETTINGS_PK])
        row = cursor.fetchone()
    if row is None:
        return routing_settings(), roster.version()
    desk = RoutingSettings.from_db(connection.alias, ROUTING_STATE_FIELDS, row[:-1])
    return desk, row[-1]


def staff_member(user: Any) -> StaffMember:
    """The person's staffing row (created offline on first use)."""
    member, _created = StaffMember.objects.get_or_create(user_id=user.pk)
    return member


def lock_member(user_id: int) -> StaffMember:
    """The person's row, locked for the rest of the transaction (created if missing)."""
    StaffMember.objects.get_or_create(user_id=user_id)
    return StaffMember.objects.select_for_update().get(user_id=user_id)


def _require_team_lead(actor: Any, message: str) -> None:
    if not (actor.is_superuser or roles.is_team_lead(actor)):
        raise NotAllowedForRole(message)


# --------------------------------------------------------------------------- presence


@transaction.atomic
def set_presence(
    user: Any, status: str, *, now: datetime, source: str = PresenceSource.USER
) -> StaffMember:
    """Set the person's presence. Locks the row, so an assignment decided at the same moment
    sees either the old or the new status, never half of it."""
    if status not in PresenceStatus.values:
        raise InvalidArgument(_("Unknown presence status."), field="status")
    member = lock_member(user.pk)
    previous = member.status
    member.status = status
    member.status_source = source
    if status != PresenceStatus.OFFLINE:
        member.last_seen_at = now
    if previous != status:
        member.status_changed_at = now
    member.save(update_fields=["status", "status_source", "status_changed_at", "last_seen_at"])
    if previous != status and PresenceStatus.ONLINE in (previous, status):
        enqueue_on_commit(PRESENCE_CHANGED_TASK, user.pk)
    return member


def record_activity(user: Any, *, now: datetime) -> None:
    """A request by `user` at `now`: note it (one UPDATE); a status the desk derived from
    inactivity (away, or offline after the session ended) turns online again. A status the
    user set himself stays. People without a staffing row (never signed in) are skipped."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {StaffMember._meta.db_table} SET last_seen_at = %s"
            " WHERE user_id = %s RETURNING status, status_source",
            [now, user.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return
    status, source = row
    if status != PresenceStatus.ONLINE and source == PresenceSource.ACTIVITY:
        set_presence(user, PresenceStatus.ONLINE, now=now, source=PresenceSource.ACTIVITY)


def signed_in(user: Any, *, now: datetime) -> None:
    """A desk person signed in: online, as derived from activity (which also counts as his
    latest request: the activity middleware writes again a minute later at the earliest)."""
    if roles.is_desk_staff(user):
        note_activity_written(user.pk)
        set_presence(user, PresenceStatus.ONLINE, now=now, source=PresenceSource.ACTIVITY)


def signed_out(user: Any, *, now: datetime) -> None:
    if user is not None and StaffMember.objects.filter(user_id=user.pk).exists():
        set_presence(user, PresenceStatus.OFFLINE, now=now, source=PresenceSource.LOGOUT)


def sweep_presence(*, now: datetime) -> int:
    """Online people without a request for `away_after_minutes` become away; online or away
    people without one for `offline_after_minutes` (the session is over) become offline.
    Both as derived from activity. Returns how many changed."""
    desk = routing_settings()
    changed = 0
    gone = StaffMember.objects.filter(
        status__in=[PresenceStatus.ONLINE, PresenceStatus.AWAY],
        last_seen_at__lt=now - timedelta(minutes=desk.offline_after_minutes),
    ).select_related("user")
    for member in gone:
        set_presence(member.user, PresenceStatus.OFFLINE, now=now, source=PresenceSource.ACTIVITY)
        changed += 1
    idle = StaffMember.objects.filter(
        status=PresenceStatus.ONLINE,
        last_seen_at__lt=now - timedelta(minutes=desk.away_after_minutes),
    ).select_related("user")
    for member in idle:
        set_presence(member.user, PresenceStatus.AWAY, now=now, source=PresenceSource.ACTIVITY)
        changed += 1
    return changed


# --------------------------------------------------------------------------- routing settings


@transaction.atomic
def update_routing_settings(
    *,
    actor: Any,
    now: datetime,
    auto_assign: bool | None = None,
    max_open_per_agent: int | None = None,
) -> RoutingSettings:
    """A team lead switches auto-assignment and sets the default capacity. Switching it on
    routes the waiting cases at once (after the commit)."""
    _require_team_lead(actor, _("Only team leads change the routing."))
    desk = routing_settings()
    desk = RoutingSettings.objects.select_for_update().get(pk=desk.pk)
    if max_open_per_agent is not None:
        if not 1 <= max_open_per_agent <= 100:
            raise InvalidArgument(
                _("Ensure this value is between 1 and 100."), field="max_open_per_agent"
            )
        desk.max_open_per_agent = max_open_per_agent
    if auto_assign is not None:
        desk.auto_assign = auto_assign
    desk.updated_at = now
    desk.updated_by = actor
    desk.save()
    if desk.auto_assign:
        enqueue_on_commit(PRESENCE_CHANGED_TASK, None)
    return desk


@transaction.atomic
def update_member_routing(
    user: Any,
    *,
    actor: Any,
    max_open: int | None | object = ...,
    languages: Iterable[str] | None = None,
    departments: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> StaffMember:
    """A team lead sets a person's capacity (None: the desk's default) and skills."""
    _require_team_lead(actor, _("Only team leads change capacity and skills."))
    member = lock_member(user.pk)
    if max_open is not ...:
        if max_open is not None and not (isinstance(max_open, int) and 0 <= max_open <= 100):
            raise InvalidArgument(_("Ensure this value is between 0 and 100."), field="max_open")
        member.max_open = max_open
    if languages is not None:
        member.languages = sorted({value.strip().lower() for value in languages if value.strip()})
    if departments is not None:
        member.departments = sorted({value.strip() for value in departments if value.strip()})
    if channels is not None:
        member.channels = sorted({value.strip() for value in channels if value.strip()})
    member.save()
    enqueue_on_commit(PRESENCE_CHANGED_TASK, user.pk)
    return member


# --------------------------------------------------------------------------- roster


@transaction.atomic
def add_weekly_shifts(shifts: Iterable[tuple[Any, str, int, time, time]]) -> list[Shift]:
    """Add recurring weekly shifts, each (user, duty, weekday 0–6, starts, ends) in desk
    time; one statement. Unknown duties or weekdays, or a shift that starts where it ends,
    are refused before anything is written."""
    rows = []
    for user, duty, weekday, starts, ends in shifts:
        if duty not in Duty.values:
            raise InvalidArgument(_("Unknown duty."), field="duty")
        if weekday not in Weekday.values:
            raise InvalidArgument(_("Unknown weekday."), field="weekday")
        if starts == ends:
            raise InvalidArgument(_("A shift cannot end when it starts."), field="ends")
        rows.append(Shift(user=user, duty=duty, weekday=weekday, starts=starts, ends=ends))
    return Shift.objects.bulk_create(rows)
