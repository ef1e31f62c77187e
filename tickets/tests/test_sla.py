"""SLA engine (DESIGN §4): deadlines at the boundary, stop rules, warnings, breaches,
escalation, Wiedervorlage, catch-up after downtime, concurrent sweeps."""

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from tickets import actions, outbox, sla
from tickets.choices import (
    NotificationKind,
    Priority,
    ReplyKind,
    ReplyStatus,
    ReplyVisibility,
    SlaKind,
    TicketEventKind,
    TicketState,
)
from tickets.intake import receive_mention
from tickets.models import Notification, Reply, SlaBreach, SlaClock, SlaPolicy, Ticket
from tickets.tests.factories import ChannelFactory, DepartmentFactory, SlaClockFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- pure


def test_first_response_is_due_ten_minutes_after_start_and_breached_only_after() -> None:
    started_at = datetime(2026, 3, 29, 0, 55, tzinfo=UTC)  # Berlin: summer time from 01:00 UTC

    deadlines = sla.deadlines(started_at, target_seconds=600, warn_percent=80)

    assert deadlines.due_at == datetime(2026, 3, 29, 1, 5, tzinfo=UTC)
    assert deadlines.warn_at == datetime(2026, 3, 29, 1, 3, tzinfo=UTC)
    assert not sla.is_breached(deadlines.due_at, at=deadlines.due_at)
    assert sla.is_breached(deadlines.due_at, at=deadlines.due_at + timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("on", "expected_utc"),
    [
        (date(2026, 3, 28), datetime(2026, 3, 28, 7, 0, tzinfo=UTC)),  # winter time (UTC+1)
        (date(2026, 3, 29), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),  # DST starts that night
        (date(2026, 10, 24), datetime(2026, 10, 24, 6, 0, tzinfo=UTC)),  # summer time (UTC+2)
        (date(2026, 10, 25), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),  # DST ends that night
    ],
)
def test_wiedervorlage_falls_due_at_eight_berlin_time_across_dst(
    on: date, expected_utc: datetime
) -> None:
    assert sla.resubmission_due_at(on) == expected_utc


def test_customer_perceived_time_is_floored_at_zero() -> None:
    assert sla.customer_perceived_seconds(T0 + timedelta(seconds=5), T0) == 0.0
    assert sla.customer_perceived_seconds(T0, T0 + timedelta(seconds=90)) == 90.0


# --------------------------------------------------------------------------- helpers


def _mention(channel: Any, external_id: str, *, private: bool = False) -> RawMention:
    return RawMention(
        external_id=external_id,
        # X reports the author's user id (a direct message needs it, issue 17).
        author=RawAuthor(handle="@erika", display_name="Erika", platform_user_id="4711"),
        text="Wo bleibt mein Paket?",
        created_at=timezone.now() - timedelta(seconds=30),
        is_private=private,
    )


def _open_ticket(*, private: bool = False, channel: Any = None) -> Ticket:
    channel = channel or ChannelFactory(slug="twitter", platform=Platform.TWITTER)
    result = receive_mention(
        channel,
        _mention(channel, f"m-{Ticket.objects.count()}", private=private),
        now=timezone.now(),
    )
    return Ticket.objects.get(pk=result.ticket_id)


def _send(ticket: Ticket, author: Any, reviewer: Any, *, kind: str, visibility: str) -> Reply:
    """Draft, review where needed, and deliver a reply (the platform accepts it now)."""
    reply = actions.create_reply(
        ticket, actor=author, text="Hallo Erika, wir kümmern uns.", visibility=visibility, kind=kind
    )
    reply = actions.submit_reply(reply, actor=author)
    if reply.status == ReplyStatus.PENDING_REVIEW:
        reply = actions.approve_reply(reply, actor=reviewer)
    claimed = outbox.claim_reply_for_sending(reply.pk, now=timezone.now())
    assert claimed is not None
    return outbox.record_reply_sent(
        reply.pk, platform_id=f"p-{reply.pk}", permalink="", now=timezone.now()
    )


def _breaches(ticket: Ticket) -> list[SlaBreach]:
    return list(SlaBreach.objects.filter(clock__ticket=ticket))


# --------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    ("offset", "warned", "breached"),
    [
        (timedelta(minutes=8) - timedelta(seconds=1), False, False),
        (timedelta(minutes=8), True, False),
        (timedelta(minutes=10) - timedelta(seconds=1), True, False),
        (timedelta(minutes=10), True, False),  # at the deadline: not yet breached
        (timedelta(minutes=10, seconds=1), True, True),
    ],
)
def test_first_response_warns_at_80_percent_and_breaches_only_after_the_deadline(
    offset: timedelta, warned: bool, breached: bool, cm: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = _open_ticket()

    actions.enforce_sla(now=T0 + offset)

    clock = ticket.clocks.get()
    assert (clock.warned_at is not None, bool(_breaches(ticket))) == (warned, breached)


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        (SlaKind.ENGAGEMENT, timedelta(hours=24)),
        (SlaKind.NEXT_RESPONSE, timedelta(minutes=10)),
        (SlaKind.DEPARTMENT_FEEDBACK, timedelta(hours=48)),
    ],
)
def test_each_kind_breaches_one_second_after_its_default_target(
    kind: str, target: timedelta, team_lead: Any
) -> None:
    ticket = _open_ticket()
    clock = actions.start_clock(ticket, kind, started_at=T0)

    actions.enforce_sla(now=T0 + target)
    assert not SlaBreach.objects.filter(clock=clock).exists()
    actions.enforce_sla(now=T0 + target + timedelta(seconds=1))

    breach = SlaBreach.objects.get(clock=clock)
    assert (breach.due_at, breach.detected_at) == (T0 + target, T0 + target + timedelta(seconds=1))


def test_a_policy_change_applies_to_clocks_started_after_it() -> None:
    ticket = _open_ticket()
    before = actions.start_clock(ticket, SlaKind.NEXT_RESPONSE, started_at=T0)
    # saved as update_sla_policy saves it: a bulk update() would bypass the signal that
    # drops the per-process policy cache (servicedesk.lookups)
    policy = SlaPolicy.objects.get(kind=SlaKind.NEXT_RESPONSE, department=None)
    policy.target_seconds = 30
    policy.save()

    after = actions.start_clock(ticket, SlaKind.NEXT_RESPONSE, started_at=T0)

    assert before.due_at == T0 + timedelta(minutes=10)
    assert after.due_at == T0 + timedelta(seconds=30)


def test_department_feedback_uses_the_department_target(agent: Any) -> None:
    billing = DepartmentFactory(slug="billing")
    SlaPolicy.objects.create(
        kind=SlaKind.DEPARTMENT_FEEDBACK, department=billing, target_seconds=3600, warn_percent=50
    )
    ticket = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)

    with time_machine.travel(T0, tick=False):
        actions.ask_department(ticket, actor=agent, department=billing, question="Gutschrift?")

    clock = ticket.clocks.get(kind=SlaKind.DEPARTMENT_FEEDBACK)
    assert (clock.warn_at, clock.due_at) == (T0 + timedelta(minutes=30), T0 + timedelta(hours=1))
    assert ticket.department_requests.get().due_at == T0 + timedelta(hours=1)


# --------------------------------------------------------------------------- stop rules


def test_the_clock_stops_when_the_reply_is_sent_not_when_it_is_approved(
    agent: Any, other_agent: Any
) -> None:
    ticket = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)
    reply = actions.create_reply(
        ticket, actor=agent, text="Hallo Erika", visibility="public", kind=ReplyKind.HOLDING
    )
    reply = actions.submit_reply(reply, actor=agent)
    actions.approve_reply(reply, actor=other_agent)

    assert ticket.clocks.get().stopped_at is None  # review time counts
    outbox.claim_reply_for_sending(reply.pk, now=timezone.now())
    outbox.record_reply_sent(reply.pk, platform_id="x1", permalink="", now=timezone.now())

    clock = ticket.clocks.get()
    assert clock.stopped_at is not None and not clock.is_cancelled
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None


@pytest.mark.parametrize(
    ("kind", "visibility", "private_mention", "stops"),
    [
        (ReplyKind.ANSWER, ReplyVisibility.PUBLIC, False, True),
        (ReplyKind.HOLDING, ReplyVisibility.PUBLIC, False, True),
        (ReplyKind.ASK_PRIVATE, ReplyVisibility.PUBLIC, False, True),
        (ReplyKind.MODERATION, ReplyVisibility.PUBLIC, False, False),
        (ReplyKind.ANSWER, ReplyVisibility.PRIVATE, False, False),  # not visible where asked
        (ReplyKind.ANSWER, ReplyVisibility.PRIVATE, True, True),
        (ReplyKind.ANSWER, ReplyVisibility.PUBLIC, True, False),
    ],
)
def test_stop_rules_by_kind_and_visibility(
    kind: str, visibility: str, private_mention: bool, stops: bool, agent: Any, other_agent: Any
) -> None:
    ticket = force_state(
        _open_ticket(private=private_mention), TicketState.IN_PROGRESS, assignee=agent
    )

    _send(ticket, agent, other_agent, kind=kind, visibility=visibility)

    assert (ticket.clocks.get().stopped_at is not None) == stops


def test_a_late_stop_records_the_breach_itself(
    agent: Any, other_agent: Any, team_lead: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)

    with time_machine.travel(T0 + timedelta(minutes=12), tick=False):
        _send(ticket, agent, other_agent, kind=ReplyKind.ANSWER, visibility="public")

    breach = _breaches(ticket)[0]
    assert (breach.due_at, breach.detected_at) == (
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=12),
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
    assert (
        Notification.objects.filter(user=team_lead, kind=NotificationKind.SLA_BREACH).count() == 1
    )


def test_dismissal_cancels_running_clocks_but_keeps_breaches(cm: Any) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = _open_ticket()
    actions.enforce_sla(now=T0 + timedelta(minutes=11))

    with time_machine.travel(T0 + timedelta(minutes=12), tick=False):
        actions.dismiss_ticket(ticket, actor=cm, reason="spam")

    clock = ticket.clocks.get()
    assert clock.is_cancelled and clock.stopped_at == T0 + timedelta(minutes=12)
    assert len(_breaches(ticket)) == 1


def test_no_service_case_replaces_first_response_with_engagement_from_the_same_start(
    cm: Any,
) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = _open_ticket()

    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        actions.mark_no_service_case(ticket, actor=cm)

    first = ticket.clocks.get(kind=SlaKind.FIRST_RESPONSE)
    engagement = ticket.clocks.get(kind=SlaKind.ENGAGEMENT)
    assert first.is_cancelled
    assert (engagement.started_at, engagement.due_at) == (T0, T0 + timedelta(hours=24))
    actions.enforce_sla(now=T0 + timedelta(minutes=30))
    assert _breaches(ticket) == []


def test_department_answer_stops_its_clock_and_returns_the_ticket(
    agent: Any, expert: Any, department: Any
) -> None:
    ticket = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)
    actions.ask_department(ticket, actor=agent, department=department, question="Bekannt?")

    actions.answer_department_request(
        ticket.department_requests.get(), actor=expert, answer="Ja, Störung behoben."
    )

    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
    clock = ticket.clocks.get(kind=SlaKind.DEPARTMENT_FEEDBACK)
    assert clock.stopped_at is not None and not clock.is_cancelled
    event = ticket.events.get(transition="department_answered")
    assert event.actor is None and event.data["expert"] == expert.pk


# --------------------------------------------------------------------------- notifications


def test_warning_goes_to_the_assignee_else_the_stage(cm: Any, agent: Any, other_agent: Any) -> None:
    with time_machine.travel(T0, tick=False):
        new_ticket = _open_ticket()
        assigned = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)
        waiting = force_state(_open_ticket(), TicketState.SUPPORT)

    actions.enforce_sla(now=T0 + timedelta(minutes=9))

    def recipients(ticket: Ticket) -> set[str]:
        return set(
            Notification.objects.filter(
                ticket=ticket, kind=NotificationKind.SLA_WARNING
            ).values_list("user__username", flat=True)
        )

    assert recipients(new_ticket) == {"cm"}
    assert recipients(assigned) == {"agent"}
    assert recipients(waiting) == {"agent", "other_agent"}


def test_a_warning_whose_breach_is_already_past_is_recorded_without_notification(
    agent: Any,
) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)

    actions.enforce_sla(now=T0 + timedelta(minutes=15))

    assert ticket.clocks.get().warned_at == T0 + timedelta(minutes=15)
    assert ticket.events.filter(kind=TicketEventKind.SLA_WARNING).count() == 1
    assert not Notification.objects.filter(kind=NotificationKind.SLA_WARNING).exists()


def test_department_warning_goes_to_its_experts_and_the_requesting_agent(
    agent: Any, expert: Any, other_expert: Any, department: Any
) -> None:
    ticket = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)
    with time_machine.travel(T0, tick=False):
        actions.ask_department(ticket, actor=agent, department=department, question="?")

    actions.enforce_sla(now=T0 + timedelta(hours=40))

    notified = set(
        Notification.objects.filter(kind=NotificationKind.SLA_WARNING).values_list(
            "user__username", flat=True
        )
    )
    assert notified == {"agent", "expert"}


def test_breach_escalates_to_team_leads_by_notification_and_email(
    team_lead: Any, mailoutbox: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = _open_ticket()

    actions.enforce_sla(now=T0 + timedelta(minutes=11))
    actions.send_pending_notification_emails(now=T0 + timedelta(minutes=11))
    actions.send_pending_notification_emails(now=T0 + timedelta(minutes=12))

    notification = Notification.objects.get(user=team_lead, kind=NotificationKind.SLA_BREACH)
    assert notification.ticket == ticket
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [team_lead.email]
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH


# --------------------------------------------------------------------------- sweeps


def test_sweep_records_breach_once_even_if_run_twice(team_lead: Any) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = _open_ticket()
    now = T0 + timedelta(minutes=11)

    actions.enforce_sla(now=now)
    actions.enforce_sla(now=now + timedelta(seconds=5))

    assert len(_breaches(ticket)) == 1
    assert ticket.events.filter(kind=TicketEventKind.SLA_BREACH).count() == 1
    assert Notification.objects.filter(kind=NotificationKind.SLA_BREACH).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_record_one_breach_and_one_escalation() -> None:
    from tickets.tests.factories import UserFactory

    UserFactory(username="lead", groups=["team_lead"])
    clocks = [
        SlaClockFactory(due_at=T0 - timedelta(minutes=1), warned_at=T0 - timedelta(minutes=2))
        for _ in range(20)
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            actions.enforce_sla(now=T0)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert SlaBreach.objects.count() == len(clocks)
    assert Notification.objects.filter(kind=NotificationKind.SLA_BREACH).count() == len(clocks)


def test_catch_up_after_downtime_records_every_breach_once_with_its_true_deadline(
    team_lead: Any,
) -> None:
    # 2,000 clocks whose deadlines are spread over the 30 minutes the sweep did not run
    template = _open_ticket(channel=ChannelFactory(slug="bulk"))
    template.clocks.all().delete()
    rows = Ticket.objects.bulk_create(
        [
            Ticket(
                channel_id=template.channel_id,
                customer_id=template.customer_id,
                opened_at=T0,
                posted_at=T0,
                last_mention_at=T0,
                state_changed_at=T0,
                updated_at=T0,
            )
            for _ in range(2000)
        ]
    )
    now = T0 + timedelta(minutes=30)
    SlaClock.objects.bulk_create(
        [
            SlaClock(
                ticket=ticket,
                kind=SlaKind.FIRST_RESPONSE,
                started_at=now - timedelta(seconds=index * 9 // 10 + 600),
                warn_at=now - timedelta(seconds=index * 9 // 10 + 120),
                due_at=now - timedelta(seconds=index * 9 // 10 + 1),
            )
            for index, ticket in enumerate(rows)
        ]
    )

    actions.enforce_sla(now=now)

    breaches = SlaBreach.objects.select_related("clock")
    assert breaches.count() == 2000
    assert all(breach.due_at == breach.clock.due_at for breach in breaches)
    assert {breach.detected_at for breach in breaches} == {now}
    assert not SlaClock.objects.overdue(now).exists()
    actions.enforce_sla(now=now + timedelta(seconds=5))
    assert SlaBreach.objects.count() == 2000


def test_wiedervorlage_falls_due_at_eight_and_notifies_the_assignee(agent: Any) -> None:
    ticket = force_state(_open_ticket(), TicketState.IN_PROGRESS, assignee=agent)
    with time_machine.travel(datetime(2026, 3, 27, 12, 0, tzinfo=UTC), tick=False):
        actions.schedule_resubmission(
            ticket, actor=agent, resubmission_on=date(2026, 3, 30), handover_reference="KS-123"
        )
    due = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # 08:00 Berlin, summer time

    actions.fire_due_resubmissions(now=due - timedelta(seconds=1))
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESUBMISSION
    actions.fire_due_resubmissions(now=due)

    ticket.refresh_from_db()
    assert (ticket.state, ticket.follow_up_due_at, ticket.handover_reference) == (
        TicketState.IN_PROGRESS,
        due,
        "KS-123",
    )
    assert (
        Notification.objects.filter(
            user=agent, kind=NotificationKind.RESUBMISSION_DUE, ticket=ticket
        ).count()
        == 1
    )
    assert not sla.is_follow_up_overdue(ticket.follow_up_due_at, now=due + timedelta(hours=23))
    assert sla.is_follow_up_overdue(ticket.follow_up_due_at, now=due + timedelta(hours=24))


def test_waiting_for_private_data_closes_after_seven_days(agent: Any) -> None:
    ticket = force_state(_open_ticket(), TicketState.WAITING_CUSTOMER, assignee=agent)
    Ticket.objects.filter(pk=ticket.pk).update(state_changed_at=T0)

    actions.close_unanswered_private_requests(now=T0 + timedelta(days=7) - timedelta(seconds=1))
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.WAITING_CUSTOMER
    actions.close_unanswered_private_requests(now=T0 + timedelta(days=7))

    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    assert ticket.events.get(transition="close_no_response").actor is None
