"""SLA clocks (DESIGN §4): started with deadlines fixed from the policy in force, stopped by a
reply sent to the customer, cancelled by dismissal and closing. A clock stopped late records
its breach here, in the same transaction; the sweep (`tickets.actions.sweep`) records the
breaches of running clocks. Both go through `insert_breaches` and `apply_breaches`.

PostgreSQL triggers follow these writes (migration tickets/0006_report_facts): every clock
stopped, cancelled or breached adds its report facts, and a breach row sets the clock's
DB-only `is_breached` column.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk import lookups, roles
from servicedesk.queue import enqueue_on_commit
from tickets import sla
from tickets.actions.events import write_events
from tickets.actions.notifications import SEND_EMAILS_TASK, group_members, notification_row
from tickets.apps import SLA_POLICIES
from tickets.choices import (
    DEFAULT_SLA_TARGETS,
    DEFAULT_WARN_PERCENT,
    PRIORITY_ORDER,
    RESPONSE_CLOCK_KINDS,
    RESPONSE_KINDS,
    NotificationKind,
    ReplyVisibility,
    TicketEventKind,
)
from tickets.models import (
    Department,
    DepartmentRequest,
    Notification,
    Reply,
    SlaBreach,
    SlaClock,
    SlaPolicy,
    Ticket,
    TicketEvent,
)


def current_policy(kind: str, department: Department | None = None) -> tuple[int, int]:
    """(target_seconds, warn_percent) of the policy in force for `kind` (department first);
    cached per process until a policy changes (servicedesk.lookups)."""
    department_id = department.pk if department is not None else None
    return lookups.get(
        SLA_POLICIES, (kind, department_id), lambda: _load_policy(kind, department_id)
    )


def _load_policy(kind: str, department_id: int | None) -> tuple[int, int]:
    policies = SlaPolicy.objects.filter(kind=kind).filter(
        Q(department__isnull=True) | Q(department_id=department_id)
        if department_id is not None
        else Q(department__isnull=True)
    )
    chosen = None
    for policy in policies:
        if policy.department_id is not None or chosen is None:
            chosen = policy
    if chosen is None:
        return DEFAULT_SLA_TARGETS[kind], DEFAULT_WARN_PERCENT
    return chosen.target_seconds, chosen.warn_percent


def start_clock(
    ticket: Ticket,
    kind: str,
    *,
    started_at: datetime,
    posted_at: datetime | None = None,
    department_request: DepartmentRequest | None = None,
) -> SlaClock:
    """Start a clock with its deadlines fixed from the policy in force now."""
    department = department_request.department if department_request else None
    target_seconds, warn_percent = current_policy(kind, department)
    deadlines = sla.deadlines(started_at, target_seconds=target_seconds, warn_percent=warn_percent)
    clock = SlaClock.objects.create(
        ticket=ticket,
        kind=kind,
        department_request=department_request,
        started_at=started_at,
        posted_at=posted_at,
        warn_at=deadlines.warn_at,
        due_at=deadlines.due_at,
    )
    refresh_sla_due(ticket)
    return clock


def refresh_sla_due(ticket: Ticket) -> None:
    """Keep `ticket.sla_due_at` (the earliest running deadline) for the queues' order."""
    due = SlaClock.objects.running().filter(ticket=ticket).aggregate(due=Min("due_at"))["due"]
    if ticket.sla_due_at != due:
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
        ticket.sla_due_at = due


def stop_clock(
    clock: SlaClock, *, at: datetime, cancelled: bool = False, stopped_by: Any = None
) -> bool:
    """Stop a running clock at `at` (`stopped_by`: the author of the reply that stopped it).
    A late stop records its breach here, in the same transaction (unless cancelled: a
    cancelled clock keeps only breaches recorded before). Returns True if the stop was late."""
    late = not cancelled and sla.is_breached(clock.due_at, at=at)
    SlaClock.objects.filter(pk=clock.pk).update(
        stopped_at=at, is_cancelled=cancelled, stopped_by=stopped_by
    )
    clock.stopped_at, clock.is_cancelled = at, cancelled
    if late:
        apply_breaches(insert_breaches([clock], now=at), now=at, enqueue_emails=True)
    return late


def stop_response_clocks(ticket: Ticket, *, reply: Reply, at: datetime) -> int:
    """A sent reply visible to the customer stops the running response clocks: a reply of
    kind answer, holding or ask_private, public for a public mention, private for a private
    one. Returns how many clocks stopped."""
    if reply.kind not in RESPONSE_KINDS:
        return 0
    mention_is_private = reply.in_reply_to_mention.is_private
    if (reply.visibility == ReplyVisibility.PRIVATE) != mention_is_private:
        return 0
    clocks = list(
        SlaClock.objects.running()
        .select_for_update()
        .filter(ticket=ticket, kind__in=RESPONSE_CLOCK_KINDS)
        .select_related("ticket")
    )
    for clock in clocks:
        stop_clock(clock, at=at, stopped_by=reply.author)
    if clocks:
        refresh_sla_due(ticket)
    return len(clocks)


def cancel_running_clocks(ticket: Ticket, *, at: datetime, kinds: Iterable[str] = ()) -> int:
    """Cancel the ticket's running clocks (of `kinds`, else all): no outcome of their own."""
    clocks = SlaClock.objects.running().select_for_update().filter(ticket=ticket)
    if kinds:
        clocks = clocks.filter(kind__in=list(kinds))
    count = 0
    for clock in clocks.select_related("ticket"):
        stop_clock(clock, at=at, cancelled=True)
        count += 1
    refresh_sla_due(ticket)
    return count


def insert_breaches(clocks: list[SlaClock], *, now: datetime) -> list[SlaBreach]:
    """INSERT … ON CONFLICT DO NOTHING on the unique clock: whichever path comes first
    records the breach; the others get nothing back and do nothing. The insert's trigger
    (sd_breach_added) sets each clock's `is_breached` column and counts the breach in the
    report facts, in this transaction."""
    if not clocks:
        return []
    by_id = {clock.pk: clock for clock in clocks}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {SlaBreach._meta.db_table} (clock_id, due_at, detected_at)
                SELECT id, due_at, %s FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due_at)
                ON CONFLICT (clock_id) DO NOTHING RETURNING id, clock_id""",
            [now, list(by_id), [clock.due_at for clock in clocks]],
        )
        rows = cursor.fetchall()
    return [
        SlaBreach(pk=pk, clock=by_id[clock_id], due_at=by_id[clock_id].due_at, detected_at=now)
        for pk, clock_id in rows
    ]


def apply_breaches(breaches: list[SlaBreach], *, now: datetime, enqueue_emails: bool) -> None:
    """The consequences of newly recorded breaches: the ticket's priority rises one step per
    breach, an event, and an escalation to the team leads (in-app and e-mail). The sweep's
    task sends the e-mails itself right after, so it asks for no extra task."""
    if not breaches:
        return
    raises: dict[int, int] = {}
    for breach in breaches:
        raises[breach.clock.ticket_id] = raises.get(breach.clock.ticket_id, 0) + 1
    order = [str(priority) for priority in PRIORITY_ORDER]
    with connection.cursor() as cursor:
        # One step up per breach (normal → high → urgent), in one statement.
        cursor.execute(
            f"""UPDATE {Ticket._meta.db_table} AS t
                SET priority = (%s::text[])[LEAST(array_position(%s::text[], t.priority) + v.steps,
                                                  cardinality(%s::text[]))]
                FROM unnest(%s::bigint[], %s::int[]) AS v(id, steps) WHERE t.id = v.id""",
            [order, order, order, list(raises), list(raises.values())],
        )
    write_events(
        [
            TicketEvent(
                ticket_id=breach.clock.ticket_id,
                kind=TicketEventKind.SLA_BREACH,
                created_at=now,
                data={
                    "clock_id": breach.clock_id,
                    "clock_kind": breach.clock.kind,
                    "due_at": breach.due_at.isoformat(),
                },
            )
            for breach in breaches
        ]
    )
    leads = group_members(roles.TEAM_LEAD)[roles.TEAM_LEAD]
    Notification.objects.bulk_create(
        [
            notification_row(
                lead,
                NotificationKind.SLA_BREACH,
                ticket_id=breach.clock.ticket_id,
                at=now,
                key=f"breach:{breach.clock_id}",
                text=lambda breach=breach: (
                    _("Ticket #%(ticket)s breached %(kind)s (due %(due)s).")
                    % {
                        "ticket": breach.clock.ticket_id,
                        "kind": breach.clock.get_kind_display(),
                        "due": timezone.localtime(breach.due_at).strftime("%d.%m.%Y %H:%M:%S"),
                    }
                ),
                email=True,
                clock_id=breach.clock_id,
            )
            for breach in breaches
            for lead in leads
        ],
        ignore_conflicts=True,
    )
    if leads and enqueue_emails:
        enqueue_on_commit(SEND_EMAILS_TASK)
