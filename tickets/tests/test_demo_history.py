"""The demo's roster and its four weeks of archived history (issue 16: the forecast page
shows the coming week against the roster)."""

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from monitoring.models import Channel, Mention
from servicedesk.errors import InvalidArgument
from staffing import actions as staffing_actions
from staffing.choices import Duty
from staffing.models import Shift
from tickets import demo_history, facts
from tickets.choices import ReplyStatus, TicketState
from tickets.models import Reply, SlaClock, Ticket, TicketEvent
from tickets.reports.staffing import MIN_SAMPLES, staffing_forecast

pytestmark = pytest.mark.django_db

User = get_user_model()
NOW = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)  # a Thursday; this Monday is 2026-11-09
ARCHIVE = demo_history.ARCHIVE_SLUG
MONDAY, SATURDAY, SUNDAY = 0, 5, 6


def seed(now: datetime = NOW) -> str:
    output = StringIO()
    with time_machine.travel(now, tick=False):
        call_command("seed_demo", stdout=output)
    return output.getvalue()


def archive_counts() -> dict[str, int]:
    archive = {"ticket__channel__slug": ARCHIVE}
    return {
        "shifts": Shift.objects.count(),
        "tickets": Ticket.objects.filter(channel__slug=ARCHIVE).count(),
        "mentions": Mention.objects.filter(channel__slug=ARCHIVE).count(),
        "clocks": SlaClock.objects.filter(**archive).count(),
        "replies": Reply.objects.filter(**archive).count(),
        "events": TicketEvent.objects.filter(**archive).count(),
    }


def local_days(mentions: Any) -> Counter:
    zone = demo_history.desk_zone()
    return Counter(
        at.astimezone(zone).date() for at in mentions.values_list("received_at", flat=True)
    )


def test_seeding_twice_writes_the_roster_and_the_history_once() -> None:
    output = seed()
    once = archive_counts()

    again = seed()

    assert archive_counts() == once
    # clara and both agents' review on weekdays, clara on Saturday, both agents' support daily
    assert once["shifts"] == 5 * 3 + 1 + 7 * 2
    assert 28 * 25 <= once["mentions"] <= 28 * 40
    assert once["tickets"] == once["mentions"] == once["clocks"] == once["replies"]
    assert f"{once['shifts']}, " in output and f"{once['mentions']}." in output
    assert ": 0, " in again and "demo-archive): 0." in again


def test_the_history_covers_the_four_weeks_before_this_monday_with_a_daily_rhythm() -> None:
    seed()

    archive = Mention.objects.filter(channel__slug=ARCHIVE)
    days = local_days(archive)
    assert sorted(days) == [datetime(2026, 10, 12).date() + timedelta(days=n) for n in range(28)]
    assert all(20 <= count <= 45 for count in days.values())
    weekday = sum(count for day, count in days.items() if day.weekday() < 5) / 20
    sunday = sum(count for day, count in days.items() if day.weekday() == SUNDAY) / 4
    assert sunday < weekday
    zone = demo_history.desk_zone()
    hours = Counter(
        at.astimezone(zone).hour for at in archive.values_list("received_at", flat=True)
    )
    assert hours[8] + hours[9] > 3 * (hours[2] + hours[3] + hours[4])
    assert hours[17] + hours[18] > hours[14] + hours[15]
    weeks = [sum(count for day, count in days.items() if (day - min(days)).days // 7 == week)
             for week in range(4)]  # fmt: skip
    assert weeks[3] > weeks[0]  # a slight upward trend


def test_archived_cases_are_resolved_with_stopped_clocks_and_exact_report_facts() -> None:
    seed()

    archive = Ticket.objects.filter(channel__slug=ARCHIVE)
    assert set(archive.values_list("state", flat=True)) == {TicketState.RESOLVED}
    assert not archive.filter(resolved_at__isnull=True).exists()
    clocks = SlaClock.objects.filter(ticket__channel__slug=ARCHIVE)
    assert not clocks.filter(stopped_at__isnull=True).exists()
    assert all(clock.stopped_at <= clock.due_at for clock in clocks)
    replies = Reply.objects.filter(ticket__channel__slug=ARCHIVE)
    assert set(replies.values_list("status", flat=True)) == {ReplyStatus.SENT}
    assert not [reply for reply in replies if reply.reviewer_id == reply.author_id]
    assert Channel.objects.get(slug=ARCHIVE).name == "Demo-Verlauf (archiviert)"
    assert facts.drift() == []


def test_the_forecast_shows_next_week_against_the_demo_roster() -> None:
    seed()

    with time_machine.travel(NOW, tick=False):
        result = staffing_forecast(NOW)

    assert result.first_day == datetime(2026, 11, 16).date()
    assert result.handling_measured >= MIN_SAMPLES
    assert 180 <= result.handling_seconds <= 480
    hour = {plan.hour: plan for plan in result.hours}
    for day in range(5):
        assert hour[day * 24 + 8].expected > 0 and hour[day * 24 + 9].expected > 0
        assert hour[day * 24 + 5].rostered == 0  # the night is nobody's
        assert hour[day * 24 + 8].rostered == 3  # clara (triage), anton and olga (support)
        assert hour[day * 24 + 18].rostered == 2  # the agents until 22:00
        assert hour[day * 24 + 22].rostered == 0
    assert hour[SATURDAY * 24 + 10].rostered == 3
    assert hour[SUNDAY * 24 + 10].rostered == 2
    assert result.understaffed_hours > 0
    assert all(not plan.understaffed for plan in result.hours[SUNDAY * 24 + 6 : SUNDAY * 24 + 22])


def test_a_seed_a_week_later_adds_only_the_missing_week() -> None:
    seed()
    before = local_days(Mention.objects.filter(channel__slug=ARCHIVE))

    seed(NOW + timedelta(days=7))

    after = local_days(Mention.objects.filter(channel__slug=ARCHIVE))
    added = sorted(set(after) - set(before))
    assert added == [datetime(2026, 11, 9).date() + timedelta(days=n) for n in range(7)]
    assert all(after[day] == count for day, count in before.items())


def test_a_roster_the_desk_keeps_already_is_left_as_it_is() -> None:
    anton = User.objects.create(username="anton")
    Shift.objects.create(
        user=anton, duty=Duty.SUPPORT, weekday=MONDAY, starts=time(9), ends=time(17)
    )

    seed()

    assert list(Shift.objects.values_list("user__username", "duty", "weekday")) == [
        ("anton", Duty.SUPPORT, MONDAY)
    ]


@pytest.mark.parametrize(
    "shift",
    [
        ("lunch", 0, time(9), time(12)),
        (Duty.SUPPORT, 7, time(9), time(12)),
        (Duty.SUPPORT, 0, time(9), time(9)),
    ],
)
def test_a_bad_weekly_shift_is_refused_and_nothing_is_written(shift: tuple[Any, ...]) -> None:
    agent = User.objects.create(username="agent")
    good = (agent, Duty.TRIAGE, 1, time(8), time(10))

    with pytest.raises(InvalidArgument):
        staffing_actions.add_weekly_shifts([good, (agent, *shift)])

    assert not Shift.objects.exists()
