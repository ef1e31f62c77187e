"""Deadline arithmetic (pure: no queries, no clock). Every time is an aware datetime."""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DESK_TIME_ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
RESUBMISSION_DUE_TIME = time(8, 0)  # a Wiedervorlage falls due at 08:00 desk time
FOLLOW_UP_OVERDUE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Deadlines:
    warn_at: datetime
    due_at: datetime


def deadlines(started_at: datetime, *, target_seconds: int, warn_percent: int) -> Deadlines:
    """Warning and due time of a clock that starts at `started_at` (clocks run around the
    clock, in UTC). The warning is at `warn_percent` of the target, rounded down to a second."""
    target = timedelta(seconds=target_seconds)
    warn_after = timedelta(seconds=target_seconds * warn_percent // 100)
    return Deadlines(warn_at=started_at + warn_after, due_at=started_at + target)


def is_breached(due_at: datetime, *, at: datetime) -> bool:
    """A clock is breached when its stop (or now, while running) lies after the deadline."""
    return at > due_at


def remaining_seconds(due_at: datetime, *, now: datetime) -> float:
    return (due_at - now).total_seconds()


def resubmission_due_at(on: date) -> datetime:
    """08:00 Europe/Berlin on `on`, in UTC: DST changes cannot shift it."""
    local = datetime.combine(on, RESUBMISSION_DUE_TIME, tzinfo=DESK_TIME_ZONE)
    return local.astimezone(UTC)


def desk_today(now: datetime) -> date:
    return now.astimezone(DESK_TIME_ZONE).date()


def is_follow_up_overdue(flagged_at: datetime | None, *, now: datetime) -> bool:
    """A follow-up is overdue while still flagged 24 hours after it fell due."""
    return flagged_at is not None and now - flagged_at >= FOLLOW_UP_OVERDUE_AFTER


def customer_perceived_seconds(posted_at: datetime, stopped_at: datetime) -> float:
    """Response time as the customer saw it: from the post's own timestamp, floored at 0."""
    return max((stopped_at - posted_at).total_seconds(), 0.0)
