"""The staffing forecast's data (issue 16, point 5): the desk's hourly history and measured
handling time, handed to the pure arithmetic of `staffing.forecast` together with the roster
(`staffing.roster.rostered_per_hour`). Three SQL statements and the roster's two."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from servicedesk.sql import dict_rows
from staffing import forecast, roster
from staffing.choices import Duty
from tickets.actions.clocks import current_policy
from tickets.choices import SlaKind

HISTORY_WEEKS = 4
DEFAULT_HANDLING_SECONDS = 360.0  # until enough cases were measured
MIN_SAMPLES = 10
HANDLING_CLIP = (30, 3600)  # a case "handled" in under 30 s or over an hour is not work time
# Who answers first responses: the CMs on triage and the agents on support.
ANSWERING_DUTIES = (Duty.TRIAGE, Duty.SUPPORT)


@dataclass(frozen=True)
class Forecast:
    first_day: date  # the Monday the forecast week starts
    trend: float
    handling_seconds: float
    handling_measured: int  # cases behind the handling time (0: the default)
    target_seconds: int
    level: float
    hours: list[forecast.HourPlan]

    @property
    def understaffed_hours(self) -> int:
        return sum(hour.understaffed for hour in self.hours)

    def days(self) -> list[tuple[date, list[forecast.HourPlan]]]:
        return [
            (self.first_day + timedelta(days=day), self.hours[day * 24 : day * 24 + 24])
            for day in range(7)
        ]


def desk_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_TIME_ZONE)


def next_monday(now: datetime) -> date:
    today = now.astimezone(desk_zone()).date()
    return today + timedelta(days=7 - today.weekday())


def hourly_history(this_monday: date, weeks: int = HISTORY_WEEKS) -> list[list[float]]:
    """Mentions that reached a ticket per hour of the week, for the `weeks` full desk
    weeks before `this_monday`, oldest first (weeks before the desk's first mention are left
    out, so a young desk is not averaged down by empty weeks)."""
    first = this_monday - timedelta(days=7 * weeks)
    rows = dict_rows(
        """
        SELECT floor(extract(epoch FROM (m.received_at AT TIME ZONE %(zone)s)
                       - %(first)s::timestamp) / 604800)::int AS week,
               ((extract(isodow FROM m.received_at AT TIME ZONE %(zone)s)::int - 1) * 24
                + extract(hour FROM m.received_at AT TIME ZONE %(zone)s)::int) AS hour,
               count(*) AS n
        FROM monitoring_mention m
        WHERE m.ticket_id IS NOT NULL
          AND m.received_at >= (%(first)s::timestamp AT TIME ZONE %(zone)s)
          AND m.received_at < (%(end)s::timestamp AT TIME ZONE %(zone)s)
        GROUP BY 1, 2
        """,
        {"zone": settings.DESK_TIME_ZONE, "first": first, "end": this_monday},
    )
    history = [[0.0] * forecast.HOURS_PER_WEEK for _ in range(weeks)]
    for row in rows:
        history[row["week"]][row["hour"]] = float(row["n"])
    active = [index for index, week in enumerate(history) if any(week)]
    return history[active[0] :] if active else []


def measured_handling(now: datetime, *, days: int = 28) -> tuple[float, int]:
    """(mean seconds, cases): from a case being taken (by a person or routing) to the first
    reply its assignee submitted after that, over the last `days`, clipped to HANDLING_CLIP.
    The default when fewer than MIN_SAMPLES cases were measured."""
    rows = dict_rows(
        """
        SELECT avg(least(greatest(extract(epoch FROM first_submit - taken_at), %(low)s),
                         %(high)s)) AS mean, count(*) AS n
        FROM (
            SELECT e.created_at AS taken_at,
                   (SELECT min(r.submitted_at) FROM tickets_reply r
                     WHERE r.ticket_id = e.ticket_id AND r.submitted_at >= e.created_at)
                       AS first_submit
            FROM tickets_ticketevent e
            WHERE e.transition = 'take' AND e.created_at >= %(since)s
        ) taken
        WHERE first_submit IS NOT NULL
        """,
        {"since": now - timedelta(days=days), "low": HANDLING_CLIP[0], "high": HANDLING_CLIP[1]},
    )
    count = int(rows[0]["n"] or 0)
    if count < MIN_SAMPLES:
        return DEFAULT_HANDLING_SECONDS, 0
    return float(rows[0]["mean"]), count


def staffing_forecast(now: datetime, *, level: float = 0.8) -> Forecast:
    """The coming desk week (from next Monday): expected mentions, staff needed to answer
    `level` of them within the first-response target, and the roster."""
    first_day = next_monday(now)
    this_monday = first_day - timedelta(days=7)
    expected, trend = forecast.hour_of_week_profile(hourly_history(this_monday))
    handling, measured = measured_handling(now)
    target, _warn = current_policy(SlaKind.FIRST_RESPONSE)
    rostered = roster.rostered_per_hour(first_day, ANSWERING_DUTIES)
    hours = forecast.plan_week(
        expected, rostered, handling_seconds=handling, target_seconds=target, level=level
    )
    return Forecast(first_day, trend, handling, measured, target, level, hours)
