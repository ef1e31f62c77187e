"""Who is on which duty at a moment (issue 16, point 2): read-only, a few indexed queries.

A person is on a duty at `now` when a shift of that duty covers the desk-local time (a
recurring shift on that weekday, or a one-off shift on that date) and no absence covers the
date. An absent person's stand-in is on the absent person's duties instead. A desk with no
shift at all has no roster: then everyone counts as on duty (routing still needs them online).

Routing asks on every decision, so the rows of a desk day are kept per process under the
roster's version (`VERSION_SQL`, read in the same statement as the routing settings): the
count and a hash sum of the physical row versions of the shifts and absences
(PostgreSQL's `ctid` and `xmin`; every insert, update and delete changes that set), so a
write by any path (actions, the admin, a migration, a test) gives a new version and the
next read loads the rows again. A write that is rolled back leaves the version of the rows
before it. Without a version the rows are read afresh.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Q

from staffing.models import Absence, Shift


def desk_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_TIME_ZONE)


def has_roster() -> bool:
    return Shift.objects.exists()


def _covers(starts: time, ends: time, moment: time, *, previous_day: bool) -> bool:
    """Whether a shift from `starts` to `ends` (of the local day, or of the day before when
    `previous_day`) covers the local time `moment`."""
    overnight = ends <= starts
    if previous_day:
        return overnight and moment < ends
    if overnight:
        return moment >= starts
    return starts <= moment < ends


def _day_filter(day: date) -> Q:
    return Q(weekday=day.weekday(), on_date__isnull=True) | Q(on_date=day)


# The roster's version: the count and a hash sum of the row versions of the shifts and
# absences, by place and writer (`ctid`, `xmin`): an insert, update or delete changes it,
# so does an update within one transaction (a new row version has a new place).
_ROW_VERSIONS = (
    "SELECT count(*) || '.' || coalesce(sum(hashtext(ctid::text || xmin::text)), 0) FROM {}"
)
VERSION_SQL = (
    f"SELECT ({_ROW_VERSIONS.format('staffing_shift')}) || ':' ||"
    f" ({_ROW_VERSIONS.format('staffing_absence')})"
)


def version() -> str:
    """The roster's version (staffing.actions.routing_state reads it with the settings)."""
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class DayRows:
    """What decides the duties of one desk date: whether the desk keeps a roster, the
    shifts of that day and of the day before (an overnight shift reaches into it) and the
    absences covering the date. `has_roster` is None when not asked for (no version)."""

    today: date
    has_roster: bool | None
    shifts: tuple[tuple[int, str, int | None, date | None, time, time], ...]
    absences: tuple[tuple[int, int | None], ...]


_cached: tuple[tuple[str, date], DayRows] | None = None  # ((version, date), rows), per process


def day_rows(today: date, version: str | None = None) -> DayRows:
    """The rows of `today`: from this process's cache while `version` is unchanged, else two
    queries (with a version a third when neither day has a shift: is there a roster?)."""
    global _cached
    cached = _cached
    if version is not None and cached is not None and cached[0] == (version, today):
        return cached[1]
    yesterday = today - timedelta(days=1)
    shifts = tuple(
        Shift.objects.filter(_day_filter(today) | _day_filter(yesterday))
        .order_by()
        .values_list("user_id", "duty", "weekday", "on_date", "starts", "ends")
    )
    flag = None if version is None else bool(shifts) or has_roster()
    rows = DayRows(
        today=today,
        has_roster=flag,
        shifts=shifts,
        absences=tuple(
            Absence.objects.filter(starts_on__lte=today, ends_on__gte=today)
            .order_by()
            .values_list("user_id", "stand_in_id")
        ),
    )
    if version is not None:
        _cached = ((version, today), rows)
    return rows


def _holders(rows: DayRows, moment: time, duty: str | None) -> dict[int, set[str]]:
    today = rows.today
    yesterday = today - timedelta(days=1)
    holders: dict[int, set[str]] = {}
    for user_id, shift_duty, weekday, on_date, starts, ends in rows.shifts:
        if duty is not None and shift_duty != duty:
            continue
        of_today = on_date == today or (on_date is None and weekday == today.weekday())
        of_yesterday = on_date == yesterday or (on_date is None and weekday == yesterday.weekday())
        if (of_today and _covers(starts, ends, moment, previous_day=False)) or (
            of_yesterday and _covers(starts, ends, moment, previous_day=True)
        ):
            holders.setdefault(user_id, set()).add(shift_duty)
    for user_id, stand_in_id in rows.absences:
        duties = holders.pop(user_id, set())
        if stand_in_id and duties:
            holders.setdefault(stand_in_id, set()).update(duties)
    return holders


def on_duty(
    now: datetime, duty: str | None = None, *, version: str | None = None
) -> dict[int, set[str]]:
    """User id → the duties the person holds at `now` (only `duty` when given)."""
    local = now.astimezone(desk_time_zone())
    return _holders(day_rows(local.date(), version), local.time(), duty)


def absent_user_ids(today: date, *, version: str | None = None) -> set[int]:
    if version is not None:
        return {user_id for user_id, _stand_in in day_rows(today, version).absences}
    return set(
        Absence.objects.filter(starts_on__lte=today, ends_on__gte=today).values_list(
            "user_id", flat=True
        )
    )


def holders_of(now: datetime, duty: str, *, version: str | None = None) -> set[int] | None:
    """The user ids on `duty` at `now`; None when the desk keeps no roster (anyone)."""
    local = now.astimezone(desk_time_zone())
    if version is None:
        if not has_roster():
            return None
        rows = day_rows(local.date())
    else:
        rows = day_rows(local.date(), version)
        if not rows.has_roster:
            return None
    return {
        user_id for user_id, duties in _holders(rows, local.time(), duty).items() if duty in duties
    }


def rostered_per_hour(first_day: date, duties: tuple[str, ...]) -> dict[int, int]:
    """For the 7 desk days from `first_day` (a Monday): hour of the week (0 = Monday
    00:00) → how many people hold one of `duties` for the whole or part of that hour,
    one-off shifts and absences (with stand-ins) included. Two queries."""
    days = [first_day + timedelta(days=offset) for offset in range(7)]
    shifts = list(
        Shift.objects.filter(duty__in=duties).filter(
            Q(on_date__isnull=True) | Q(on_date__range=(days[0], days[-1]))
        )
    )
    absences = list(Absence.objects.filter(starts_on__lte=days[-1], ends_on__gte=days[0]))
    people: dict[int, set[int]] = {}
    for offset, day in enumerate(days):
        away = {a.user_id: a.stand_in_id for a in absences if a.starts_on <= day <= a.ends_on}
        for shift in shifts:
            if not (
                shift.on_date == day or (shift.on_date is None and shift.weekday == day.weekday())
            ):
                continue
            holder = shift.user_id
            if holder in away:
                holder = away[holder]
                if holder is None or holder in away:
                    continue
            start = shift.starts.hour
            end_minutes = shift.ends.hour * 60 + shift.ends.minute
            if shift.ends <= shift.starts:
                end_minutes += 24 * 60
            for hour in range(start, math.ceil(end_minutes / 60)):
                slot = offset * 24 + hour
                if slot < 7 * 24:  # an overnight shift of Sunday ends beyond this week
                    people.setdefault(slot, set()).add(holder)
    return {slot: len(holders) for slot, holders in people.items()}
