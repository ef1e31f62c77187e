"""A small desk month with hand-computed dashboard figures, shared by the tests of the
reports, the dashboard page, its CSV export and the SLA API.

`NOW` is Wednesday 2025-03-12 12:00 UTC (13:00 in Berlin); the default range is the 30 desk
days 2025-02-11 … 2025-03-12. Every expected figure below is worked out by hand in its comment.

Tickets (channel Alpha unless noted) and their clocks:

    T1  resolved     opened 03-10 08:00, resolved 10:00 (7,200 s); 3 transitions, 1 hand-over
        C2 first_response 03-10 08:00 → 08:20 (1,200 s) late → breach; posted 07:59 (1,260 s)
    T2  resolved     opened 03-05 12:00, resolved 12:30 by the CM (1,800 s); 1 transition
        C4 first_response 03-05 12:00 → 12:06 (360 s) met; posted 11:55 (660 s)
    T3  unsolvable   opened 03-03 09:00, resolved 03-09 11:00 (525,600 s); 5 transitions,
                     3 hand-overs; topic "Tarif X"
        D1 Technik request 03-03 10:00, answered 03-04 10:00 (86,400 s) — met
        D2 Technik request 03-06 10:00, answered 03-09 10:00 (259,200 s) — late → breach
    T4  dismissed    C5 first_response 03-05 13:00, cancelled 13:03 — no outcome
    T5  resolved     opened and resolved 02-01 (outside the range); topic "Tarif X"
        C8 first_response 02-01 late → breach (outside every period)
    T6  in_progress  (agent) C1 first_response 03-12 10:00 → 10:04 (240 s) met; posted 09:58
                     (360 s); follow-up flagged 03-12 07:00 (not yet overdue)
    T7  waiting_department (agent), Billing requests:
        D3 03-11 12:00, open, due 03-13 12:00 — running, no outcome
        D4 03-08 09:00, open, due 03-10 09:00 — running, breach recorded (live breach)
        D5 03-07 10:00, withdrawn 15:00 — cancelled, no outcome
    T8  in_progress  (other_agent) C3 first_response 03-10 09:00 → 09:02 (120 s) met; posted
                     09:03, after the receipt (customer view −60 s → floored to 0);
                     follow-up flagged 03-11 07:00 (29 h ago: overdue)
    T9  new          [Beta] C6 first_response 11:52, warned 12:00, due 12:02 — at risk
    T10 support      [Beta] C7 first_response 11:40, due 11:50, breach recorded — live breach
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tickets.choices import (
    DepartmentRequestStatus,
    ReplyKind,
    ReplyStatus,
    SlaKind,
    TicketEventKind,
    TicketState,
)
from tickets.models import DepartmentRequest, SlaBreach, SlaClock, Ticket, TicketEvent, Topic
from tickets.tests.factories import (
    ChannelFactory,
    DepartmentFactory,
    MentionFactory,
    ReplyFactory,
    SlaClockFactory,
    TicketFactory,
)

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
S = TicketState


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


@dataclass
class DeskMonth:
    alpha: Any
    beta: Any
    tickets: dict[str, Ticket] = field(default_factory=dict)
    clocks: dict[str, SlaClock] = field(default_factory=dict)


# ---- the expected figures, by hand

# first_response — today (03-12): C1 met, C7 breached (C6 has no outcome) → 1 / 2.
# 7 days (03-06 … 03-12): + C2 breached, C3 met → 2 met, 2 breached.
# 30 days and the range: + C4 met (C5 cancelled, C8 outside) → 3 met, 2 breached = 0.6.
# department_feedback — 7 days: D2 and D4 breached → 0 met, 2 breached; 30 days: + D1 met.
EXPECTED_COMPLIANCE = {
    SlaKind.FIRST_RESPONSE: {
        "today": (1, 1, 0.5),
        "days_7": (2, 2, 0.5),
        "days_30": (3, 2, 0.6),
        "range": (3, 2, 0.6),
    },
    SlaKind.DEPARTMENT_FEEDBACK: {
        "today": (0, 0, None),
        "days_7": (0, 2, 0.0),
        "days_30": (1, 2, 1 / 3),
        "range": (1, 2, 1 / 3),
    },
    SlaKind.ENGAGEMENT: {period: (0, 0, None) for period in ("today", "days_7", "days_30")},
}
# Stopped first-response clocks: 120, 240, 360, 1200 s. Median (240 + 360) / 2 = 300;
# p90 at position 0.9 × 3 = 2.7: 360 + 0.7 × (1200 − 360) = 948.
# Customer view: 0 (floored), 360, 660, 1260: median 510; p90 660 + 0.7 × 600 = 1080.
EXPECTED_FIRST_RESPONSE_TIMES = {
    "stopped": 4,
    "median_seconds": 300.0,
    "p90_seconds": 948.0,
    "perceived_median_seconds": 510.0,
    "perceived_p90_seconds": 1080.0,
}
# Daily trend: 03-03 D1 met (1.0), 03-05 C4 met (1.0), 03-06 D2 breached (0.0),
# 03-08 D4 breached (0.0), 03-10 C2 breached + C3 met (0.5), 03-12 C1 met + C7 breached (0.5).
EXPECTED_TREND = {
    at(3, 3, 0).date(): (1, 0, 1.0),
    at(3, 5, 0).date(): (1, 0, 1.0),
    at(3, 6, 0).date(): (0, 1, 0.0),
    at(3, 8, 0).date(): (0, 1, 0.0),
    at(3, 10, 0).date(): (1, 1, 0.5),
    at(3, 12, 0).date(): (1, 1, 0.5),
}
# Technik: D1 86,400 s and D2 259,200 s: median 172,800; p90 86,400 + 0.9 × 172,800 = 241,920;
# kept 1 (D1) of 2 decided. Billing: D3 open not yet due, D4 open past due (decided, not kept),
# D5 withdrawn: 3 requests, 0 answered, 2 open, kept 0 of 1 decided.
EXPECTED_DEPARTMENTS = {
    "Technik": {
        "requests": 2,
        "answered": 2,
        "open": 0,
        "median_seconds": 172800.0,
        "p90_seconds": 241920.0,
        "kept_share": 0.5,
    },
    "Abrechnung": {
        "requests": 3,
        "answered": 0,
        "open": 2,
        "median_seconds": None,
        "p90_seconds": None,
        "kept_share": 0.0,
    },
}
# Resolved in the range: T2 1,800 s, T1 7,200 s, T3 525,600 s (T4 dismissed, T5 outside).
# Duration median 7,200; p90 at 0.9 × 2 = 1.8: 7,200 + 0.8 × 518,400 = 421,920.
# Transitions 1, 3, 5: median 3, p90 3 + 0.8 × 2 = 4.6, mean 3. Hand-overs 0 + 1 + 3 = 4:
# median 1, mean 4 / 3.
EXPECTED_PROCESS = {
    "tickets": 3,
    "median_duration_seconds": 7200.0,
    "p90_duration_seconds": 421920.0,
    "median_transitions": 3.0,
    "p90_transitions": 4.6,
    "mean_transitions": 3.0,
    "handovers": 4,
    "median_handovers": 1.0,
    "mean_handovers": 4 / 3,
}
# agent: open T6, T7; sent R1, R2, R2b in the range (R5 on 02-01 is outside); first responses
# C1 240 s and C2 1,200 s → median 720. other_agent: open T8; sent R3 (the draft R6 is not
# sent); C3 120 s. cm: nothing open; sent R4; C4 360 s.
EXPECTED_AGENTS = [
    ("agent", 2, 3, 2, 720.0),
    ("other_agent", 1, 1, 1, 120.0),
    ("cm", 0, 1, 1, 360.0),
]
# Open: T9 new (CM); T10 support, T6 and T8 in_progress (Support); T7 waiting_department.
EXPECTED_BACKLOG = {"total": 5, "cm": 1, "support": 3, "department": 1}


def build_desk_month(*, cm: Any, agent: Any, other_agent: Any) -> DeskMonth:
    """Create the tickets, clocks, breaches, requests, replies, events and mentions above."""
    alpha = ChannelFactory(slug="alpha", name="Alpha")
    beta = ChannelFactory(slug="beta", name="Beta")
    technik = DepartmentFactory(slug="technik", name="Technik")
    billing = DepartmentFactory(slug="abrechnung", name="Abrechnung")
    tariff = Topic.objects.create(name="Tarif X", created_at=at(1, 1, 0))
    Topic.objects.create(name="Altgerät", created_at=at(1, 1, 0))
    month = DeskMonth(alpha=alpha, beta=beta)

    def ticket(name: str, channel: Any, opened: datetime, state: str, **fields: Any) -> Ticket:
        created = TicketFactory(channel=channel, opened_at=opened, mention=False)
        MentionFactory(
            ticket=created,
            channel=channel,
            customer=created.customer,
            received_at=opened,
            created_at=opened - timedelta(minutes=1),
        )
        Ticket.objects.filter(pk=created.pk).update(state=state, **fields)
        month.tickets[name] = Ticket.objects.get(pk=created.pk)
        return month.tickets[name]

    def clock(name: str, ticket_: Ticket, kind: str, started: datetime, **fields: Any) -> None:
        is_department = kind == SlaKind.DEPARTMENT_FEEDBACK
        target = timedelta(hours=48) if is_department else timedelta(minutes=10)
        fields.setdefault("due_at", started + target)
        fields.setdefault("warn_at", started + target * 0.8)
        month.clocks[name] = SlaClockFactory(
            ticket=ticket_, kind=kind, started_at=started, **fields
        )

    def breach(name: str, detected: datetime) -> None:
        clock_ = month.clocks[name]
        SlaBreach.objects.create(clock=clock_, due_at=clock_.due_at, detected_at=detected)

    def sent_reply(ticket_: Ticket, author: Any, sent: datetime, kind: str) -> None:
        reply = ReplyFactory(ticket=ticket_, author=author, kind=kind, created_at=sent)
        type(reply).objects.filter(pk=reply.pk).update(status=ReplyStatus.SENT, sent_at=sent)

    def transitions(ticket_: Ticket, *steps: tuple[str, str, str], handovers: int = 0) -> None:
        """The transition events, and the counters the transition action keeps with them."""
        Ticket.objects.filter(pk=ticket_.pk).update(
            transition_count=len(steps), handover_count=handovers
        )
        for index, (name, from_state, to_state) in enumerate(steps):
            TicketEvent.objects.create(
                ticket=ticket_,
                kind=TicketEventKind.TRANSITION,
                transition=name,
                from_state=from_state,
                to_state=to_state,
                created_at=ticket_.opened_at + timedelta(minutes=index + 1),
            )
        TicketEvent.objects.create(
            ticket=ticket_, kind=TicketEventKind.NOTE, created_at=ticket_.opened_at
        )

    def request(
        ticket_: Ticket, department: Any, created: datetime, status: str, **fields: Any
    ) -> DepartmentRequest:
        return DepartmentRequest.objects.create(
            ticket=ticket_,
            department=department,
            question="Bitte prüfen",
            requested_by=agent,
            created_at=created,
            due_at=created + timedelta(hours=48),
            status=status,
            **fields,
        )

    t1 = ticket("T1", alpha, at(3, 10, 8), S.RESOLVED, assignee=agent, resolved_at=at(3, 10, 10))
    clock("C2", t1, SlaKind.FIRST_RESPONSE, at(3, 10, 8), stopped_at=at(3, 10, 8, 20),
          posted_at=at(3, 10, 7, 59), stopped_by=agent)  # fmt: skip
    breach("C2", at(3, 10, 8, 20))
    sent_reply(t1, agent, at(3, 10, 8, 20), ReplyKind.HOLDING)
    sent_reply(t1, agent, at(3, 10, 9, 55), ReplyKind.ANSWER)
    transitions(t1, ("assign_to_support", S.NEW, S.SUPPORT), ("take", S.SUPPORT, S.IN_PROGRESS),
                ("resolve", S.IN_PROGRESS, S.RESOLVED), handovers=1)  # fmt: skip
    # A bystander's reply at 00:30 Berlin on 03-10 (still 03-09 in UTC) counts on 03-10.
    MentionFactory(ticket=t1, channel=alpha, received_at=at(3, 9, 23, 30))
    # The desk's own post is no customer volume.
    MentionFactory(ticket=t1, channel=alpha, received_at=at(3, 10, 8, 20), is_own_account=True)

    t2 = ticket("T2", alpha, at(3, 5, 12), S.RESOLVED, resolved_at=at(3, 5, 12, 30))
    clock("C4", t2, SlaKind.FIRST_RESPONSE, at(3, 5, 12), stopped_at=at(3, 5, 12, 6),
          posted_at=at(3, 5, 11, 55), stopped_by=cm)  # fmt: skip
    sent_reply(t2, cm, at(3, 5, 12, 6), ReplyKind.ANSWER)
    transitions(t2, ("resolve", S.NEW, S.RESOLVED))

    t3 = ticket("T3", alpha, at(3, 3, 9), S.UNSOLVABLE, assignee=agent,
                resolved_at=at(3, 9, 11), topic=tariff)  # fmt: skip
    d1 = request(t3, technik, at(3, 3, 10), DepartmentRequestStatus.ANSWERED,
                 answered_at=at(3, 4, 10), closed_at=at(3, 4, 10))  # fmt: skip
    clock("D1", t3, SlaKind.DEPARTMENT_FEEDBACK, at(3, 3, 10), stopped_at=at(3, 4, 10),
          department_request=d1)  # fmt: skip
    d2 = request(t3, technik, at(3, 6, 10), DepartmentRequestStatus.ANSWERED,
                 answered_at=at(3, 9, 10), closed_at=at(3, 9, 10))  # fmt: skip
    clock("D2", t3, SlaKind.DEPARTMENT_FEEDBACK, at(3, 6, 10), stopped_at=at(3, 9, 10),
          department_request=d2)  # fmt: skip
    breach("D2", at(3, 8, 10, 1))
    transitions(
        t3,
        ("assign_to_support", S.NEW, S.SUPPORT),
        ("take", S.SUPPORT, S.IN_PROGRESS),
        ("ask_department", S.IN_PROGRESS, S.WAITING_DEPARTMENT),
        ("department_answered", S.WAITING_DEPARTMENT, S.IN_PROGRESS),
        ("mark_unsolvable", S.IN_PROGRESS, S.UNSOLVABLE),
        handovers=3,
    )

    t4 = ticket("T4", alpha, at(3, 5, 13), S.DISMISSED, resolved_at=at(3, 5, 13, 3))
    clock("C5", t4, SlaKind.FIRST_RESPONSE, at(3, 5, 13), stopped_at=at(3, 5, 13, 3),
          is_cancelled=True)  # fmt: skip
    transitions(t4, ("dismiss", S.NEW, S.DISMISSED))

    t5 = ticket("T5", alpha, at(2, 1, 9), S.RESOLVED, assignee=agent, resolved_at=at(2, 1, 12),
                topic=tariff)  # fmt: skip
    clock("C8", t5, SlaKind.FIRST_RESPONSE, at(2, 1, 9), stopped_at=at(2, 1, 9, 30),
          stopped_by=agent)  # fmt: skip
    breach("C8", at(2, 1, 9, 30))
    sent_reply(t5, agent, at(2, 1, 9, 30), ReplyKind.ANSWER)
    transitions(t5, ("resolve", S.NEW, S.RESOLVED))

    t6 = ticket("T6", alpha, at(3, 12, 10), S.IN_PROGRESS, assignee=agent,
                follow_up_due_at=at(3, 12, 7))  # fmt: skip
    clock("C1", t6, SlaKind.FIRST_RESPONSE, at(3, 12, 10), stopped_at=at(3, 12, 10, 4),
          posted_at=at(3, 12, 9, 58), stopped_by=agent)  # fmt: skip
    sent_reply(t6, agent, at(3, 12, 10, 4), ReplyKind.HOLDING)

    t7 = ticket("T7", alpha, at(3, 7, 9), S.WAITING_DEPARTMENT, assignee=agent)
    d3 = request(t7, billing, at(3, 11, 12), DepartmentRequestStatus.OPEN)
    clock("D3", t7, SlaKind.DEPARTMENT_FEEDBACK, at(3, 11, 12), department_request=d3)
    d4 = request(t7, billing, at(3, 8, 9), DepartmentRequestStatus.OPEN)
    clock("D4", t7, SlaKind.DEPARTMENT_FEEDBACK, at(3, 8, 9), department_request=d4,
          warned_at=at(3, 10, 0))  # fmt: skip
    breach("D4", at(3, 10, 9, 0))
    d5 = request(t7, billing, at(3, 7, 10), DepartmentRequestStatus.WITHDRAWN,
                 closed_at=at(3, 7, 15))  # fmt: skip
    clock("D5", t7, SlaKind.DEPARTMENT_FEEDBACK, at(3, 7, 10), stopped_at=at(3, 7, 15),
          is_cancelled=True, department_request=d5)  # fmt: skip

    t8 = ticket("T8", alpha, at(3, 10, 9), S.IN_PROGRESS, assignee=other_agent,
                follow_up_due_at=at(3, 11, 7))  # fmt: skip
    clock("C3", t8, SlaKind.FIRST_RESPONSE, at(3, 10, 9), stopped_at=at(3, 10, 9, 2),
          posted_at=at(3, 10, 9, 3), stopped_by=other_agent)  # fmt: skip
    sent_reply(t8, other_agent, at(3, 10, 9, 2), ReplyKind.HOLDING)
    ReplyFactory(ticket=t8, author=other_agent, created_at=at(3, 10, 10))  # a draft

    t9 = ticket("T9", beta, at(3, 12, 11, 52), S.NEW)
    clock("C6", t9, SlaKind.FIRST_RESPONSE, at(3, 12, 11, 52), warned_at=NOW)
    t10 = ticket("T10", beta, at(3, 12, 11, 40), S.SUPPORT)
    clock("C7", t10, SlaKind.FIRST_RESPONSE, at(3, 12, 11, 40), warned_at=at(3, 12, 11, 48))
    breach("C7", at(3, 12, 11, 50))
    return month


# Mentions per channel and desk day: Alpha 03-05: T2, T4; 03-07: T7; 03-10: T1, T8 and the
# bystander (00:30 Berlin); 03-12: T6. Beta 03-12: T9, T10. (T3 on 03-03, T5 outside.)
EXPECTED_VOLUME = {
    "Alpha": {
        at(3, 3, 0).date(): 1,
        at(3, 5, 0).date(): 2,
        at(3, 7, 0).date(): 1,
        at(3, 10, 0).date(): 3,
        at(3, 12, 0).date(): 1,
    },
    "Beta": {at(3, 12, 0).date(): 2},
}
