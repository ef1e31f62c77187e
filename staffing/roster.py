"""Who is on which duty at a moment (issue 16, point 2): read-only, a few indexed queries.

A person is on a duty at `now` when a shift of that duty covers the desk-local time (a
recurring shift on that weekday, or a one-off shift on that date) and no absence covers the
date. An absent person's stand-in is on the absent person's duties instead. A desk with no
shift at all has no roster: then everyone counts as on duty (routing still needs them online).
"""

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from staffing.models import Absence, Shift


def desk_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_TIME_ZONE)


def has_roster() -> bool:
    return Shift.objects.exists()


def _covers(shift: Shift, moment: time, *, previous_day: bool) -> bool:
    """Whether `shift` (of the local day, or of the day before when `previous_day`) covers
    the local time `moment`."""
    overnight = shift.ends <= shift.starts
    if previous_day:
        return overnight and moment < shift.ends
    if overnight:
        return moment >= shift.starts
    return shift.starts <= moment < shift.ends


def _day_filter(day: date) -> Q:
    return Q(weekday=day.weekday(), on_date__isnull=True) | Q(on_date=day)


def on_duty(now: datetime, duty: str | None = None) -> dict[int, set[str]]:
    """User id → the duties the person holds at `now` (only `duty` when given)."""
    local = now.astimezone(desk_time_zone())
    today, moment = local.date(), local.time()
    yesterday = today - timedelta(days=1)
    shifts = Shift.objects.filter(_day_filter(today) | _day_filter(yesterday))
    if duty is not None:
        shifts = shifts.filter(duty=duty)
    holders: dict[int, set[str]] = {}
    for shift in shifts.only("user_id", "duty", "weekday", "on_date", "starts", "ends"):
        of_today = shift.on_date == today or (
            shift.on_date is None and shift.weekday == today.weekday()
        )
        of_yesterday = shift.on_date == yesterday or (
            shift.on_date is None and shift.weekday == yesterday.weekday()
        )
        if (of_today and _covers(shift, moment, previous_day=False)) or (
            of_yesterday and _covers(shift, moment, previous_day=True)
        ):
            holders.setdefault(shift.user_id, set()).add(shift.duty)
    absences = Absence.objects.filter(starts_on__lte=today, ends_on__gte=today).only(
        "user_id", "stand_in_id"
    )
    for absence in absences:
        duties = holders.pop(absence.user_id, set())
        if absence.stand_in_id and duties:
            holders.setdefault(absence.stand_in_id, set()).update(duties)
    return holders


def absent_user_ids(today: date) -> set[int]:
    return set(
        Absence.objects.filter(starts_on__lte=today, ends_on__gte=today).values_list(
            "user_id", flat=True
        )
    )


def holders_of(now: datetime, duty: str) -> set[int] | None:
    """The user ids on `duty` at `now`; None when the desk keeps no roster (anyone)."""
    if not has_roster():
        return None
    return {user_id for user_id, duties in on_duty(now, duty).items() if duty in duties}


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
