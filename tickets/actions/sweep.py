"""The periodic sweeps, each its own function (beat runs them all, `run_sweeps`, through
`tickets.tasks.enforce_sla_task` every SLA_SWEEP_SECONDS):

- `enforce_sla`: the SLA sweep, every warning and breach due;
- `fire_due_resubmissions`: the Wiedervorlage sweep, follow-ups whose day has come;
- `close_unanswered_private_requests`: the auto-close sweep, private-data requests nobody
  answered in CLOSE_NO_RESPONSE_DAYS.

Each is safe to run concurrently and loops until nothing is due, so the first run after
downtime catches up in full. Breaches are claimed once per clock by its unique breach row,
warnings by compare-and-set on `warned_at`.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from servicedesk import roles
from servicedesk.errors import DomainError
from tickets import sla
from tickets.actions.clocks import apply_breaches, cancel_running_clocks, insert_breaches
from tickets.actions.events import fire_transition, write_events
from tickets.actions.notifications import (
    group_members,
    notification_row,
    notify,
    users_in_group,
)
from tickets.actions.routing import routing_sweep
from tickets.choices import (
    STAGE_OF_STATE,
    NotificationKind,
    SlaKind,
    Stage,
    TicketEventKind,
    TicketState,
)
from tickets.models import Notification, SlaClock, Ticket, TicketEvent

SLA_SWEEP_BATCH_SIZE = 500  # clocks (or tickets) per query; the sweeps loop until none is due


def first_ids(queryset: Any) -> list[int]:
    return list(queryset.values_list("pk", flat=True)[:SLA_SWEEP_BATCH_SIZE])


def run_sweeps(*, now: datetime) -> int:
    """The SLA sweep, the Wiedervorlage sweep, the auto-close sweep and the routing sweep
    (presence from inactivity, issue 16), in this order. Returns how many warnings,
    breaches, transitions and presence changes they recorded."""
    recorded = enforce_sla(now=now)
    recorded += fire_due_resubmissions(now=now)
    recorded += close_unanswered_private_requests(now=now)
    recorded += routing_sweep(now=now)
    return recorded


# --------------------------------------------------------------------------- SLA sweep


def enforce_sla(*, now: datetime) -> int:
    """Record every SLA warning and breach due at `now`. Returns how many were recorded."""
    recorded = 0
    seen: set[int] = set()
    # Each batch leaves the query's set (warned, breached, or stopped meanwhile); `seen`
    # only guards against a clock another sweep holds locked right now.
    while clock_ids := [
        pk for pk in first_ids(SlaClock.objects.warn_due(now).order_by("warn_at")) if pk not in seen
    ]:
        seen.update(clock_ids)
        recorded += record_sla_warnings(clock_ids, now=now)
    seen.clear()
    while clock_ids := [
        pk for pk in first_ids(SlaClock.objects.overdue(now).order_by("due_at")) if pk not in seen
    ]:
        seen.update(clock_ids)
        recorded += record_sla_breaches(clock_ids, now=now)
    return recorded


def _warning_recipients(clock: SlaClock, ticket: Ticket, groups: dict[str, list[Any]]) -> list[Any]:
    """DESIGN §4: the assignee, else the CMs (stage CM) or all agents (stage Support); for a
    department request that department's experts and the requesting agent."""
    if clock.kind == SlaKind.DEPARTMENT_FEEDBACK and clock.department_request_id:
        request = clock.department_request
        experts = [user for user in request.department.experts.all() if user.is_active]
        return [*experts, request.requested_by]
    if ticket.assignee_id:
        return [ticket.assignee]
    if STAGE_OF_STATE.get(ticket.state) == Stage.CM:
        return groups[roles.COMMUNITY_MANAGER]
    return groups[roles.SUPPORT_AGENT]


@transaction.atomic
def record_sla_warnings(clock_ids: list[int], *, now: datetime) -> int:
    """Warn once per clock (compare-and-set on `warned_at`, so of two sweeps only one
    claims a clock). A warning whose breach is also already past is recorded without a
    notification. Bulk: a constant number of queries per batch."""
    claimed = list(
        SlaClock.objects.filter(pk__in=clock_ids, stopped_at__isnull=True, warned_at__isnull=True)
        .values_list("pk", flat=True)
        .select_for_update(skip_locked=True)
    )
    if not claimed:
        return 0
    SlaClock.objects.filter(pk__in=claimed).update(warned_at=now)
    clocks = list(
        SlaClock.objects.filter(pk__in=claimed)
        .select_related(
            "ticket__assignee__profile",
            "department_request__department",
            "department_request__requested_by__profile",
        )
        .prefetch_related("department_request__department__experts__profile")
    )
    write_events(
        [
            TicketEvent(
                ticket=clock.ticket,
                kind=TicketEventKind.SLA_WARNING,
                created_at=now,
                data={
                    "clock_id": clock.pk,
                    "clock_kind": clock.kind,
                    "due_at": clock.due_at.isoformat(),
                },
            )
            for clock in clocks
        ]
    )
    groups = group_members(roles.COMMUNITY_MANAGER, roles.SUPPORT_AGENT)
    notifications = []
    for clock in clocks:
        if sla.is_breached(clock.due_at, at=now):
            continue
        minutes = max(int(sla.remaining_seconds(clock.due_at, now=now) // 60), 0)

        def text(clock: SlaClock = clock, minutes: int = minutes) -> str:
            return _("Ticket #%(ticket)s: %(kind)s due in %(minutes)s min.") % {
                "ticket": clock.ticket_id,
                "kind": clock.get_kind_display(),
                "minutes": minutes,
            }

        recipients = {user.pk: user for user in _warning_recipients(clock, clock.ticket, groups)}
        notifications += [
            notification_row(
                user,
                NotificationKind.SLA_WARNING,
                ticket_id=clock.ticket_id,
                text=text,
                at=now,
                key=f"warn:{clock.pk}",
                clock_id=clock.pk,
            )
            for user in recipients.values()
        ]
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    return len(clocks)


@transaction.atomic
def record_sla_breaches(clock_ids: list[int], *, now: datetime) -> int:
    """Record the breaches of running clocks past their deadline, with their true
    deadline; raise priorities; escalate. Clocks stopped or recorded meanwhile are skipped.
    Bulk: a constant number of queries per batch."""
    ticket_ids = list(
        SlaClock.objects.filter(pk__in=clock_ids).values_list("ticket_id", flat=True).distinct()
    )
    # Tickets before clocks, the order every action locks them in; the reverse deadlocks.
    list(Ticket.objects.select_for_update().filter(pk__in=ticket_ids).order_by("pk").values("pk"))
    clocks = [
        clock
        for clock in SlaClock.objects.select_for_update()
        .filter(pk__in=clock_ids, stopped_at__isnull=True)
        .order_by("pk")
        if sla.is_breached(clock.due_at, at=now)
    ]
    breaches = insert_breaches(clocks, now=now)
    apply_breaches(breaches, now=now, enqueue_emails=False)
    return len(breaches)


# --------------------------------------------------------------------------- Wiedervorlage sweep


def fire_due_resubmissions(*, now: datetime) -> int:
    """System: every Wiedervorlage whose time has come goes back to work, flagged
    "follow-up due", and its assignee is notified."""
    fired = 0
    while ids := first_ids(Ticket.objects.resubmission_due(now).order_by("resubmission_due_at")):
        progressed = False
        for ticket in Ticket.objects.filter(pk__in=ids):
            try:
                with transaction.atomic():
                    ticket, _from = fire_transition(
                        ticket,
                        "resubmission_due",
                        actor=None,
                        at=now,
                        update_fields=["follow_up_due_at"],
                    )
                    notify(
                        [ticket.assignee]
                        if ticket.assignee_id
                        else users_in_group(roles.SUPPORT_AGENT),
                        NotificationKind.RESUBMISSION_DUE,
                        ticket=ticket,
                        at=now,
                        dedupe_key=f"resubmission:{ticket.pk}:{ticket.resubmission_on}",
                        text=lambda ticket=ticket: (
                            _("Follow-up due for ticket #%(ticket)s.") % {"ticket": ticket.pk}
                        ),
                    )
                fired += 1
                progressed = True
            except DomainError:
                continue
        if not progressed:
            break
    return fired


# --------------------------------------------------------------------------- auto-close sweep


def close_unanswered_private_requests(*, now: datetime) -> int:
    """System: close tickets that waited CLOSE_NO_RESPONSE_DAYS for the customer's data."""
    limit = now - timedelta(days=settings.CLOSE_NO_RESPONSE_DAYS)
    closed = 0
    ids = first_ids(
        Ticket.objects.filter(state=TicketState.WAITING_CUSTOMER, state_changed_at__lte=limit)
    )
    for ticket in Ticket.objects.filter(pk__in=ids):
        try:
            with transaction.atomic():
                fire_transition(
                    ticket, "close_no_response", actor=None, at=now, update_fields=["resolved_at"],
                    note=_("Closed automatically: no answer from the customer."),
                )  # fmt: skip
                cancel_running_clocks(ticket, at=now)
            closed += 1
        except DomainError:
            continue  # moved meanwhile
    return closed
