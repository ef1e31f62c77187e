"""Incidents (issue 14, points 2 and 3): opening from the detector's signals and by hand,
members, the alert, the four-eyes statement sent once to every member (late joiners too),
and closing with the resolution statement."""

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.models import Mention
from servicedesk.errors import InvalidArgument, NotAllowedForRole, SelfApprovalNotAllowed
from tickets import outbox
from tickets.actions import incidents
from tickets.actions.notifications import send_pending_notification_emails
from tickets.actions.replies import confirm_reply_posted
from tickets.choices import (
    IncidentState,
    NotificationKind,
    ReplyKind,
    ReplyStatus,
    SlaKind,
    StatementKind,
    TicketState,
)
from tickets.intake import receive_mentions
from tickets.models import Incident, IncidentDelivery, Notification, Reply, SlaClock, Ticket
from tickets.tests.factories import ChannelFactory
from tickets.tests.helpers import force_state
from tickets.tests.incident_data import demo_channel, post
from triage.bursts import BurstSignal

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Any:
    return demo_channel()


def signal(
    mentions: list[Mention], *, new: list[Mention] | None = None, opened: bool = True
) -> BurstSignal:
    return BurstSignal(
        cluster_id=7,
        mention_ids=tuple(m.pk for m in mentions),
        new_mention_ids=tuple(m.pk for m in (mentions if new is None else new)),
        opened=opened,
        title="Internet-Störung Köln",
        started_at=min(m.created_at for m in mentions),
        reasons=("terms: internet, störung", "volume 6.0/min vs 0.2/min"),
        terms=("internet", "störung"),
        locations=("Köln",),
        volume_per_minute=6.0,
        baseline_per_minute=0.2,
    )


def deliver_all() -> None:
    for reply_id in Reply.objects.filter(status=ReplyStatus.APPROVED).values_list("pk", flat=True):
        outbox.deliver_reply(reply_id, now=timezone.now())


def approved_statement(incident: Incident, author: Any, approver: Any, kind: str, text: str) -> Any:
    statement = incidents.write_statement(incident, actor=author, kind=kind, text=text)
    return incidents.approve_statement(statement, actor=approver)


def test_opened_signal_opens_one_detected_incident_with_its_members(demo: Any) -> None:
    mentions = post(demo, 5)

    [incident] = incidents.apply_burst_signals([signal(mentions)], now=timezone.now())
    incidents.apply_burst_signals([signal(mentions)], now=timezone.now())  # the same again

    incident = Incident.objects.get()
    assert (incident.detected, incident.state, incident.cluster_id) == (True, "open", 7)
    assert incident.title == "Internet-Störung Köln"
    assert incident.started_at == mentions[0].created_at
    assert sorted(incident.members.values_list("mention_id", flat=True)) == [m.pk for m in mentions]
    assert incident.reasons[0].startswith("terms")


def test_signal_that_is_not_opened_opens_nothing_and_closed_cluster_adds_nobody(
    demo: Any, cm: Any
) -> None:
    mentions = post(demo, 4)

    assert incidents.apply_burst_signals([signal(mentions, opened=False)], now=timezone.now()) == []
    incidents.apply_burst_signals([signal(mentions[:3])], now=timezone.now())
    incident = Incident.objects.get()
    incidents.close_incident(incident, actor=cm, summary="Fehlalarm")
    incidents.apply_burst_signals(
        [signal(mentions, new=mentions[3:], opened=False)], now=timezone.now()
    )

    assert incident.members.count() == 3


def test_alert_reaches_team_leads_and_crisis_contacts_once_per_incident(
    demo: Any, team_lead: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.INCIDENT_CRISIS_CONTACTS = "krisenstab@example.org, pressestelle@example.org"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mentions = post(demo, 5)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        incidents.apply_burst_signals([signal(mentions)], now=timezone.now())
        incidents.apply_burst_signals([signal(mentions)], now=timezone.now())
    incident = Incident.objects.get()
    # the task, run twice (a retry), and the sweep behind it
    assert incidents.alert_crisis_contacts(incident.pk, now=timezone.now())
    assert not incidents.alert_crisis_contacts(incident.pk, now=timezone.now())
    assert incidents.send_pending_incident_alerts(now=timezone.now()) == 0
    send_pending_notification_emails(now=timezone.now())
    send_pending_notification_emails(now=timezone.now())

    alerts = Notification.objects.filter(kind=NotificationKind.INCIDENT_OPENED)
    assert [(n.user, n.data["incident"]) for n in alerts] == [(team_lead, incident.pk)]
    crisis = [m for m in mail.outbox if "krisenstab@example.org" in m.to]
    assert len(crisis) == 1 and crisis[0].to == [
        "krisenstab@example.org",
        "pressestelle@example.org",
    ]
    assert [m.to for m in mail.outbox if m not in crisis] == [[team_lead.email]]
    assert callbacks  # the crisis e-mail task is enqueued after commit


def test_opening_by_hand_needs_a_cm_or_team_lead(demo: Any, agent: Any, cm: Any) -> None:
    mentions = post(demo, 2)

    with pytest.raises(NotAllowedForRole):
        incidents.open_incident(actor=agent, title="Störung", mention_ids=[mentions[0].pk])
    with pytest.raises(InvalidArgument):
        incidents.open_incident(actor=cm, title="  ", mention_ids=[mentions[0].pk])
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in mentions]
    )

    assert (incident.detected, incident.opened_by, incident.members.count()) == (False, cm, 2)


def test_approval_by_the_author_is_refused(demo: Any, cm: Any) -> None:
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in post(demo, 2)]
    )
    statement = incidents.write_statement(
        incident, actor=cm, kind=StatementKind.HOLDING, text="Hallo {name}, wir sind dran."
    )

    with pytest.raises(SelfApprovalNotAllowed):
        incidents.approve_statement(statement, actor=cm)

    statement.refresh_from_db()
    assert statement.status == "pending_approval"
    assert not Reply.objects.exists()


def test_approved_statement_goes_to_every_member_once_and_stops_their_clocks(
    demo: Any, cm: Any, agent: Any
) -> None:
    mentions = post(demo, 3)
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in mentions]
    )

    statement = approved_statement(
        incident, cm, agent, StatementKind.HOLDING, "Hallo {name}, wir kennen die Störung."
    )
    incidents.deliver_statement(statement, mention_ids=None, now=timezone.now())  # a retry
    deliver_all()

    replies = Reply.objects.order_by("in_reply_to_mention_id")
    assert [r.in_reply_to_mention_id for r in replies] == [m.pk for m in mentions]
    assert {(r.status, r.kind, r.author, r.reviewer) for r in replies} == {
        (ReplyStatus.SENT, ReplyKind.HOLDING, cm, agent)
    }
    assert replies[0].text == "Hallo Kim0, wir kennen die Störung."
    clocks = SlaClock.objects.filter(kind=SlaKind.FIRST_RESPONSE)
    assert clocks.count() == 3 and not clocks.filter(stopped_at__isnull=True).exists()


def test_late_joiners_receive_the_active_statement_once(demo: Any, cm: Any, agent: Any) -> None:
    first = post(demo, 3)
    incidents.apply_burst_signals([signal(first)], now=timezone.now())
    incident = Incident.objects.get()
    statement = approved_statement(incident, cm, agent, StatementKind.HOLDING, "Hallo {name}!")
    later = post(demo, 2, start=10)

    late = signal(first + later, new=later, opened=False)
    incidents.apply_burst_signals([late], now=timezone.now())
    incidents.apply_burst_signals([late], now=timezone.now())
    deliver_all()

    deliveries = IncidentDelivery.objects.filter(statement=statement)
    assert sorted(deliveries.values_list("mention_id", flat=True)) == sorted(
        m.pk for m in first + later
    )
    assert Reply.objects.filter(in_reply_to_mention=later[0]).get().text == "Hallo Kim10!"


def test_removed_member_gets_no_statement_and_the_cm_can_add_it_back(
    demo: Any, cm: Any, agent: Any
) -> None:
    mentions = post(demo, 3)
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in mentions]
    )

    incidents.remove_incident_member(incident, mentions[2], actor=cm)
    approved_statement(incident, cm, agent, StatementKind.HOLDING, "Hallo {name}!")
    assert not Reply.objects.filter(in_reply_to_mention=mentions[2]).exists()
    incidents.add_incident_member(incident, mentions[2], actor=cm)

    assert Reply.objects.filter(in_reply_to_mention=mentions[2]).count() == 1
    with pytest.raises(InvalidArgument):
        incidents.add_incident_member(incident, mentions[2], actor=cm)


def test_closing_sends_the_resolution_once_and_resolves_tickets_without_own_questions(
    demo: Any, cm: Any, agent: Any
) -> None:
    mentions = post(demo, 4)
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in mentions]
    )
    approved_statement(incident, cm, agent, StatementKind.HOLDING, "Hallo {name}, wir sind dran.")
    deliver_all()
    # one customer writes again on his own ticket; another waits for private data
    own = RawMention(
        external_id="own-1",
        author=RawAuthor(handle="@kunde1", display_name="Kim1 Muster"),
        text="Und was ist mit meiner Gutschrift?",
        created_at=timezone.now(),
        in_reply_to=mentions[1].external_id,
    )
    receive_mentions(demo, [own], now=timezone.now())
    force_state(mentions[2].ticket, TicketState.WAITING_CUSTOMER)
    approved_statement(
        incident, agent, cm, StatementKind.RESOLUTION, "Hallo {name}, die Störung ist behoben."
    )
    assert Reply.objects.filter(kind=ReplyKind.ANSWER).count() == 0  # not before closing

    incidents.close_incident(incident, actor=cm, summary="Glasfaser in Ehrenfeld repariert.")
    deliver_all()
    deliver_all()

    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED and incident.summary.startswith("Glasfaser")
    answers = Reply.objects.filter(kind=ReplyKind.ANSWER)
    states = {m.pk: Ticket.objects.get(pk=m.ticket_id).state for m in mentions}
    assert answers.filter(status=ReplyStatus.SENT).count() == answers.count() == 4
    assert states == {
        mentions[0].pk: TicketState.RESOLVED,
        mentions[1].pk: TicketState.NEW,  # its own later message
        mentions[2].pk: TicketState.WAITING_CUSTOMER,
        mentions[3].pk: TicketState.RESOLVED,
    }
    tickets = list(Ticket.objects.filter(pk__in=[m.ticket_id for m in mentions]))
    assert incidents.own_open_questions(tickets, incident) == {
        mentions[1].ticket_id: "own_message",
        mentions[2].ticket_id: "private_data",
    }


def test_a_resolution_posted_by_hand_resolves_its_ticket_once_confirmed(
    cm: Any, agent: Any
) -> None:
    """On a channel whose replies are posted by hand (a review site read as a feed) the
    statement's replies wait for their author; confirming one resolves its ticket."""
    reviews = ChannelFactory(slug="reviews-incidents", platform=Platform.RSS)
    mentions = post(reviews, 2)
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in mentions]
    )
    approved_statement(incident, cm, agent, StatementKind.RESOLUTION, "Hallo {name}, behoben.")
    incidents.close_incident(incident, actor=cm, summary="Behoben.")
    deliver_all()
    replies = list(Reply.objects.filter(kind=ReplyKind.ANSWER).order_by("pk"))
    assert [r.status for r in replies] == [ReplyStatus.APPROVED] * 2  # nothing posts them
    assert {Ticket.objects.get(pk=r.ticket_id).state for r in replies} != {TicketState.RESOLVED}

    confirm_reply_posted(replies[0], actor=cm, permalink="https://reviews.example/r/1")

    states = [Ticket.objects.get(pk=r.ticket_id).state for r in replies]
    assert states[0] == TicketState.RESOLVED and states[1] != TicketState.RESOLVED


def test_closing_refuses_a_resolution_waiting_for_approval(demo: Any, cm: Any) -> None:
    incident = incidents.open_incident(actor=cm, title="Störung", mention_ids=[])
    incidents.write_statement(incident, actor=cm, kind=StatementKind.RESOLUTION, text="Behoben.")

    with pytest.raises(InvalidArgument):
        incidents.close_incident(incident, actor=cm, summary="fertig")

    assert Incident.objects.get().state == IncidentState.OPEN


def test_the_sweep_feeds_the_detector_the_posts_a_lost_task_left(demo: Any) -> None:
    """The intake's detection task never ran (its on_commit does not fire in this test's
    transaction, as when a broker message is lost): the minute sweep observes the posts once,
    oldest first, and leaves the brand's own posts and the newest seconds alone."""
    from datetime import timedelta

    from triage.models import BurstObservation

    mentions = post(demo, 3)
    assert not BurstObservation.objects.filter(mention__in=mentions).exists()
    assert incidents.sweep_unobserved_mentions(now=timezone.now()) == 0  # within the grace
    later = timezone.now() + timedelta(minutes=1)
    assert incidents.sweep_unobserved_mentions(now=later) == 3
    assert BurstObservation.objects.filter(mention__in=mentions).count() == 3
    assert incidents.sweep_unobserved_mentions(now=later) == 0
    assert incidents.sweep_unobserved_mentions(now=later + timedelta(hours=2)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_claim_replies_on_one_channel_at_once(demo: Any, cm: Any, agent: Any) -> None:
    """An incident statement's replies share one channel: while one worker holds its claim,
    another claims the next reply instead of skipping it (only the reply row is locked)."""
    mentions = post(demo, 2)
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in mentions]
    )
    approved_statement(incident, cm, agent, StatementKind.HOLDING, "Hallo {name}, wir sind dran.")
    first, second = Reply.objects.order_by("pk").values_list("pk", flat=True)
    holding, release = threading.Event(), threading.Event()
    claimed: list[Any] = []

    def hold_first() -> None:
        try:
            with transaction.atomic():
                claimed.append(outbox.claim_reply_for_sending(first, now=timezone.now()))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_first)
    thread.start()
    try:
        assert holding.wait(10)
        other = outbox.claim_reply_for_sending(second, now=timezone.now())
    finally:
        release.set()
        thread.join()
    assert claimed[0] is not None and other is not None and other.pk == second
