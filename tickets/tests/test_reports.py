"""tickets.reports against a desk month whose figures were worked out by hand
(tickets/tests/dashboard_data.py explains every expected number)."""

from datetime import timedelta
from typing import Any

import pytest

from tickets import actions, reports
from tickets.choices import SlaKind, Stage, is_handover
from tickets.models import Ticket
from tickets.reports import DashboardFilters
from tickets.tests.dashboard_data import (
    EXPECTED_AGENTS,
    EXPECTED_BACKLOG,
    EXPECTED_COMPLIANCE,
    EXPECTED_DEPARTMENTS,
    EXPECTED_FIRST_RESPONSE_TIMES,
    EXPECTED_PROCESS,
    EXPECTED_TREND,
    EXPECTED_VOLUME,
    NOW,
    DeskMonth,
    at,
)
from tickets.tests.factories import ReplyFactory, SlaClockFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def default() -> DashboardFilters:
    return reports.default_filters(NOW)


def test_default_range_is_the_last_thirty_desk_days() -> None:
    filters = reports.default_filters(NOW)

    assert (filters.date_from, filters.date_to) == (at(2, 11, 0).date(), at(3, 12, 0).date())
    # Midnight in Berlin (CET, UTC+1) is 23:00 UTC the day before.
    assert filters.start_at == at(2, 10, 23)
    assert filters.end_at == at(3, 12, 23)


def test_compliance_per_kind_and_period_matches_hand_computed_figures(
    month: DeskMonth, default: DashboardFilters
) -> None:
    figures = reports.compliance(default, now=NOW)

    by_kind = {row["kind"]: row for row in figures["by_kind"]}
    for kind, periods in EXPECTED_COMPLIANCE.items():
        for period, (met, breached, rate) in periods.items():
            outcome = by_kind[kind][period]
            assert (outcome.met, outcome.breached) == (met, breached), (kind, period)
            assert outcome.rate == (pytest.approx(rate) if rate is not None else None)


def test_compliance_trend_counts_each_desk_day_of_the_range(
    month: DeskMonth, default: DashboardFilters
) -> None:
    trend = reports.compliance(default, now=NOW)["trend"]

    assert [row["day"] for row in trend] == default.days
    for row in trend:
        expected = EXPECTED_TREND.get(row["day"], (0, 0, None))
        assert (row["met"], row["breached"], row["rate"]) == expected, row["day"]


def test_compliance_of_a_chosen_range_leaves_today_and_thirty_days_relative_to_now(
    month: DeskMonth,
) -> None:
    # given the range 03-03 … 03-05 only
    filters = DashboardFilters(date_from=at(3, 3, 0).date(), date_to=at(3, 5, 0).date())

    figures = reports.compliance(filters, now=NOW)

    # then the range holds C4 (met) and D1 (met); today is still 03-12
    by_kind = {row["kind"]: row for row in figures["by_kind"]}
    first = by_kind[SlaKind.FIRST_RESPONSE]
    assert (first["range"].met, first["range"].breached) == (1, 0)
    assert (first["today"].met, first["today"].breached) == (1, 1)
    assert (by_kind[SlaKind.DEPARTMENT_FEEDBACK]["range"].met) == 1
    assert len(figures["trend"]) == 3


def test_compliance_with_channel_filter_counts_only_that_channel(month: DeskMonth) -> None:
    filters = DashboardFilters(
        date_from=at(3, 1, 0).date(), date_to=at(3, 12, 0).date(), channel_id=month.beta.pk
    )

    figures = reports.compliance(filters, now=NOW)

    first = {row["kind"]: row for row in figures["by_kind"]}[SlaKind.FIRST_RESPONSE]
    assert (first["range"].met, first["range"].breached, first["range"].rate) == (0, 1, 0.0)


def test_response_time_percentiles_from_receipt_and_as_the_customer_saw_it(
    month: DeskMonth, default: DashboardFilters
) -> None:
    rows = {row["kind"]: row for row in reports.response_times(default, now=NOW)}

    first = rows[SlaKind.FIRST_RESPONSE]
    for key, expected in EXPECTED_FIRST_RESPONSE_TIMES.items():
        assert first[key] == pytest.approx(expected), key
    assert rows[SlaKind.NEXT_RESPONSE]["median_seconds"] is None


def test_customer_perceived_time_is_floored_at_zero_when_the_post_is_later_than_receipt(
    month: DeskMonth,
) -> None:
    # given only 03-10, where C3's post time (09:03) lies after the receipt (09:00) and C2's
    # customer view is 1,260 s
    filters = DashboardFilters(date_from=at(3, 10, 0).date(), date_to=at(3, 10, 0).date())

    first = {row["kind"]: row for row in reports.response_times(filters, now=NOW)}[
        SlaKind.FIRST_RESPONSE
    ]

    # then the percentiles run over 0 and 1,260: median 630, p90 0.9 × 1,260 = 1,134
    assert first["perceived_median_seconds"] == pytest.approx(630.0)
    assert first["perceived_p90_seconds"] == pytest.approx(1134.0)


def test_backlog_groups_open_tickets_by_stage_and_state(
    month: DeskMonth, default: DashboardFilters
) -> None:
    backlog = reports.backlog(default, now=NOW)

    by_stage = {stage["stage"]: stage["tickets"] for stage in backlog["stages"]}
    assert backlog["total"] == EXPECTED_BACKLOG["total"]
    assert by_stage == {
        Stage.CM: EXPECTED_BACKLOG["cm"],
        Stage.SUPPORT: EXPECTED_BACKLOG["support"],
        Stage.DEPARTMENT: EXPECTED_BACKLOG["department"],
    }
    support = next(stage for stage in backlog["stages"] if stage["stage"] == Stage.SUPPORT)
    assert {state["state"]: state["tickets"] for state in support["states"]} == {
        "support": 1,
        "in_progress": 2,
        "waiting_customer": 0,
        "resubmission": 0,
    }


def test_backlog_with_stage_filter_shows_only_that_stage(month: DeskMonth) -> None:
    filters = DashboardFilters(
        date_from=at(3, 1, 0).date(), date_to=at(3, 12, 0).date(), stage=Stage.DEPARTMENT
    )

    backlog = reports.backlog(filters, now=NOW)

    assert backlog["total"] == 1
    assert [stage["stage"] for stage in backlog["stages"]] == [Stage.DEPARTMENT]


def test_at_risk_lists_warned_running_unbreached_clocks_before_their_deadline(
    month: DeskMonth, default: DashboardFilters
) -> None:
    at_risk = reports.at_risk_clocks(default, now=NOW)

    assert at_risk["total"] == 1
    assert [row["id"] for row in at_risk["rows"]] == [month.clocks["C6"].pk]
    assert at_risk["rows"][0]["ticket_id"] == month.tickets["T9"].pk


def test_at_risk_clock_past_its_deadline_becomes_a_live_breach(
    month: DeskMonth, default: DashboardFilters
) -> None:
    # one microsecond after C6's deadline (12:02), before the sweep records its breach
    later = month.clocks["C6"].due_at + timedelta(microseconds=1)

    at_risk = reports.at_risk_clocks(default, now=later)
    breaches = reports.live_breaches(default, now=later)

    assert at_risk["total"] == 0
    assert month.clocks["C6"].pk in [row["id"] for row in breaches["rows"]]


def test_live_breaches_are_running_clocks_past_due_oldest_first(
    month: DeskMonth, default: DashboardFilters
) -> None:
    breaches = reports.live_breaches(default, now=NOW)

    assert breaches["total"] == 2
    assert [row["id"] for row in breaches["rows"]] == [
        month.clocks["D4"].pk,
        month.clocks["C7"].pk,
    ]


def test_live_counts_give_open_at_risk_and_breached(
    month: DeskMonth, default: DashboardFilters
) -> None:
    assert reports.live_counts(default, now=NOW) == {"open": 5, "at_risk": 1, "breached": 2}


def test_live_counts_follow_the_channel_filter(month: DeskMonth) -> None:
    filters = DashboardFilters(
        date_from=at(3, 1, 0).date(), date_to=at(3, 12, 0).date(), channel_id=month.beta.pk
    )

    assert reports.live_counts(filters, now=NOW) == {"open": 2, "at_risk": 1, "breached": 1}


def test_agent_figures_count_open_tickets_replies_and_median_first_response(
    month: DeskMonth, default: DashboardFilters
) -> None:
    rows = reports.agent_figures(default, now=NOW)

    assert [
        (
            row["username"],
            row["open_tickets"],
            row["replies_sent"],
            row["first_responses"],
            row["median_first_response_seconds"],
        )
        for row in rows
    ] == EXPECTED_AGENTS


def test_department_answer_times_and_share_within_deadline(
    month: DeskMonth, default: DashboardFilters
) -> None:
    rows = {row["name"]: row for row in reports.department_times(default, now=NOW)}

    for name, expected in EXPECTED_DEPARTMENTS.items():
        for key, value in expected.items():
            assert rows[name][key] == (pytest.approx(value) if value is not None else None), (
                name,
                key,
            )


def test_overdue_follow_ups_are_flagged_at_least_24_hours(
    month: DeskMonth, default: DashboardFilters
) -> None:
    overdue = reports.overdue_follow_ups(default, now=NOW)

    assert overdue["total"] == 1
    assert [row["id"] for row in overdue["rows"]] == [month.tickets["T8"].pk]


def test_follow_up_is_overdue_exactly_24_hours_after_it_fell_due_not_before() -> None:
    flagged = TicketFactory(follow_up_due_at=at(3, 11, 12))

    just_before = Ticket.objects.follow_up_overdue(NOW - timedelta(microseconds=1))
    exactly = Ticket.objects.follow_up_overdue(NOW)

    assert flagged not in just_before
    assert flagged in exactly


def test_process_duration_depth_and_hand_overs(month: DeskMonth, default: DashboardFilters) -> None:
    process = reports.process_depth(default, now=NOW)

    for key, expected in EXPECTED_PROCESS.items():
        assert process[key] == pytest.approx(expected), key


def test_transition_into_a_closed_state_is_no_hand_over(month: DeskMonth) -> None:
    # given only 03-10, where T1 went new → support (hand-over), support → in_progress,
    # in_progress → resolved (closed: no stage)
    filters = DashboardFilters(date_from=at(3, 10, 0).date(), date_to=at(3, 10, 0).date())

    process = reports.process_depth(filters, now=NOW)

    assert (process["tickets"], process["handovers"], process["median_transitions"]) == (1, 1, 3)


def test_channel_volume_counts_customer_mentions_per_desk_day(
    month: DeskMonth, default: DashboardFilters
) -> None:
    volume = reports.channel_volume(default, now=NOW)

    assert volume["days"] == default.days
    found = {
        item["channel"]: {
            day: value for day, value in zip(volume["days"], item["per_day"], strict=True) if value
        }
        for item in volume["series"]
    }
    assert found == EXPECTED_VOLUME
    assert {item["channel"]: item["total"] for item in volume["series"]} == {"Alpha": 8, "Beta": 2}


def test_unsolvable_topics_count_linked_tickets(
    month: DeskMonth, default: DashboardFilters
) -> None:
    rows = reports.unsolvable_topics(default, now=NOW)

    assert [(row["name"], row["tickets"], row["tickets_in_range"]) for row in rows] == [
        ("Tarif X", 2, 1),
        ("Altgerät", 0, 0),
    ]


def test_reports_run_a_constant_number_of_queries(
    month: DeskMonth, default: DashboardFilters, django_assert_num_queries: Any
) -> None:
    # one query per figure, whatever the data
    with django_assert_num_queries(12):
        reports.compliance(default, now=NOW)
        reports.response_times(default, now=NOW)
        reports.backlog(default, now=NOW)
        reports.at_risk_clocks(default, now=NOW)
        reports.live_breaches(default, now=NOW)
        reports.live_counts(default, now=NOW)
        reports.overdue_follow_ups(default, now=NOW)
        reports.agent_figures(default, now=NOW)
        reports.department_times(default, now=NOW)
        reports.process_depth(default, now=NOW)
        reports.channel_volume(default, now=NOW)
        reports.unsolvable_topics(default, now=NOW)


def test_transitions_keep_the_tickets_transition_and_hand_over_counters(
    cm: Any, agent: Any
) -> None:
    ticket = TicketFactory()

    ticket = actions.assign_to_support(ticket, actor=cm)  # new → support: CM → Support
    ticket = actions.take_ticket(ticket, actor=agent)  # support → in_progress: same stage

    ticket.refresh_from_db()
    assert (ticket.transition_count, ticket.handover_count) == (2, 1)


@pytest.mark.parametrize(
    ("from_state", "to_state", "expected"),
    [
        ("new", "support", True),
        ("in_progress", "waiting_department", True),
        ("support", "in_progress", False),
        ("in_progress", "resolved", False),
        ("dismissed", "new", False),
    ],
)
def test_is_handover_counts_only_changes_between_two_stages(
    from_state: str, to_state: str, expected: bool
) -> None:
    assert is_handover(from_state, to_state) is expected


def test_a_sent_reply_records_who_stopped_the_response_clock(agent: Any) -> None:
    ticket = TicketFactory(opened_at=NOW)
    clock = SlaClockFactory(ticket=ticket, started_at=NOW, due_at=NOW + timedelta(minutes=10))
    reply = ReplyFactory(ticket=ticket, author=agent, kind="holding")

    actions.stop_response_clocks(ticket, reply=reply, at=NOW + timedelta(minutes=3))

    clock.refresh_from_db()
    assert (clock.stopped_at, clock.stopped_by) == (NOW + timedelta(minutes=3), agent)
