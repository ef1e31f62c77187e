"""Every write of the tickets app: the ticket lifecycle, notes and links, replies and their
review, department requests, SLA clocks and their sweep, follow-ups and notifications.

Each action owns its transaction and its locks (ticket before clocks and replies), writes an
event for what it changed and enqueues side effects on commit. `actor=None` is the system.
"""

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from servicedesk import roles
from servicedesk.errors import (
    DomainError,
    GuardFailed,
    InvalidArgument,
    InvalidTransition,
    NotAllowedForRole,
    ReplyNotSent,
    SelfApprovalNotAllowed,
    StaleState,
    SystemTransitionOnly,
)
from servicedesk.queue import enqueue_on_commit
from tickets import sla, tasks
from tickets.choices import (
    DEFAULT_SLA_TARGETS,
    DEFAULT_WARN_PERCENT,
    OPEN_STATES,
    PRIORITY_ORDER,
    RESPONSE_CLOCK_KINDS,
    RESPONSE_KINDS,
    STAGE_OF_STATE,
    DepartmentRequestStatus,
    DismissReason,
    LinkKind,
    NotificationKind,
    ReplyKind,
    ReplyStatus,
    ReplyVisibility,
    SlaKind,
    Stage,
    TicketEventKind,
    TicketState,
    is_handover,
)
from tickets.models import (
    SYSTEM_TRANSITIONS,
    TIMED_TRANSITIONS,
    Department,
    DepartmentRequest,
    Notification,
    Reply,
    SlaBreach,
    SlaClock,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketNote,
    Topic,
)

logger = logging.getLogger(__name__)
User = get_user_model()

SLA_SWEEP_BATCH_SIZE = 500  # clocks per query; the sweep loops until none is due

# --------------------------------------------------------------------------- plumbing


def lock_ticket(ticket: Ticket) -> Ticket:
    """Re-read `ticket` with a row lock; StaleState if its state moved since it was loaded.

    Of two people acting at once on the same ticket, the second gets the conflict.
    """
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.state != ticket.state:
        raise StaleState(expected=ticket.state, actual=locked.state)
    return locked


def record_event(
    ticket: Ticket,
    kind: str,
    *,
    actor: Any,
    at: datetime,
    note: str = "",
    **data: Any,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, created_at=at, note=note, data=data
    )


def record_transition(
    ticket: Ticket,
    name: str,
    *,
    from_state: str,
    actor: Any,
    at: datetime,
    note: str = "",
    **data: Any,
) -> TicketEvent:
    """The event of a transition; `to_state` is the ticket's state after it."""
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEventKind.TRANSITION,
        transition=name,
        from_state=from_state,
        to_state=ticket.state,
        actor=actor,
        created_at=at,
        note=note,
        data=data,
    )


def ensure_may_perform(user: Any, ticket: Ticket, name: str) -> None:
    """403 unless `user` may fire transition `name` on `ticket` now (by role, not by state)."""
    if name in SYSTEM_TRANSITIONS:
        raise SystemTransitionOnly(transition=name)
    method = getattr(ticket, name)
    meta = method._django_fsm
    transition = meta.get_transition(ticket.state)
    if transition is None:
        # Not possible from this state at all: judge the role by any source of the transition,
        # so a CM asking for an agent-only transition still hears 403, not 409.
        transitions = list(meta.transitions.values())
        if not any(item.has_perm(ticket, user) for item in transitions):
            raise NotAllowedForRole(transition=name)
        return
    if not transition.has_perm(ticket, user):
        raise NotAllowedForRole(transition=name)


def available_transitions(ticket: Ticket, user: Any) -> list[str]:
    """The human transitions `user` may perform on `ticket` now (guards included)."""
    names = []
    for transition in ticket.get_available_user_state_transitions(user):
        if transition.name not in SYSTEM_TRANSITIONS and transition.name not in names:
            names.append(transition.name)
    return names


def _fire(
    ticket: Ticket,
    name: str,
    *,
    actor: Any,
    at: datetime,
    note: str = "",
    update_fields: Iterable[str] = (),
    event_data: dict[str, Any] | None = None,
    **arguments: Any,
) -> tuple[Ticket, str]:
    """Lock, check and perform one transition; save; write its event. Returns (ticket, from).

    Refuses NotAllowedForRole (a person without the role), StaleState (moved meanwhile),
    InvalidTransition (not from this state) and ReplyNotSent / GuardFailed (a guard).
    """
    locked = lock_ticket(ticket)
    if actor is not None:
        ensure_may_perform(actor, locked, name)
    method = getattr(locked, name)
    if not can_proceed(method, check_conditions=False):
        raise InvalidTransition(
            _("'%(transition)s' is not possible from the state '%(state)s'.")
            % {"transition": name, "state": locked.get_state_display()},
            transition=name,
            state=locked.state,
        )
    if not can_proceed(method):
        if name in ("resolve", "mark_unsolvable"):
            raise ReplyNotSent(transition=name)
        raise GuardFailed(transition=name)
    from_state = locked.state
    if name in TIMED_TRANSITIONS:
        arguments["at"] = at
    try:
        method(**arguments)
    except TransitionNotAllowed as error:
        raise InvalidTransition(transition=name) from error
    locked.state_changed_at = at
    locked.updated_at = at
    locked.transition_count += 1
    locked.handover_count += is_handover(from_state, locked.state)
    fields = {
        "state",
        "state_changed_at",
        "updated_at",
        "transition_count",
        "handover_count",
        *update_fields,
    }
    try:
        locked.save(update_fields=sorted(fields))
    except ConcurrentTransition as error:
        raise StaleState(transition=name) from error
    record_transition(
        locked, name, from_state=from_state, actor=actor, at=at, note=note, **(event_data or {})
    )
    return locked, from_state


def _require_text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidArgument(_("This field is required."), field=field)
    return value


# --------------------------------------------------------------------------- notifications


def notify(
    users: Iterable[Any],
    kind: str,
    *,
    text: str,
    at: datetime,
    ticket: Ticket | None = None,
    dedupe_key: str = "",
    email: bool = False,
    **data: Any,
) -> list[Notification]:
    """Create one in-app notification per user (once per `dedupe_key` and user).

    With `email`, the notifications are also e-mailed after commit (and by the sweep, should
    the broker be down).
    """
    rows = [
        Notification(
            user=user,
            kind=kind,
            ticket=ticket,
            text=text,
            created_at=at,
            dedupe_key=dedupe_key,
            data={**data, "email": email},
        )
        for user in {user.pk: user for user in users if user is not None}.values()
    ]
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows, ignore_conflicts=bool(dedupe_key))
    if email:
        enqueue_on_commit(tasks.send_notification_emails_task)
    return created


def users_in_group(name: str) -> list[Any]:
    return list(User.objects.filter(groups__name=name, is_active=True))


@transaction.atomic
def mark_notification_read(notification: Notification, *, actor: Any) -> Notification:
    if notification.user_id != actor.pk:
        raise NotAllowedForRole()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_notifications_read(*, actor: Any) -> int:
    return Notification.objects.for_user(actor).unread().update(read_at=timezone.now())


def send_pending_notification_emails(*, now: datetime) -> int:
    """E-mail every notification that asks for it and was not e-mailed yet (idempotent:
    each row is claimed by compare-and-set before its mail goes out)."""
    from django.core.mail import send_mail

    sent = 0
    pending = Notification.objects.filter(data__email=True, data__emailed_at__isnull=True)
    for notification in pending.select_related("user", "ticket")[:500]:
        claimed = Notification.objects.filter(
            pk=notification.pk, data__emailed_at__isnull=True
        ).update(data={**notification.data, "emailed_at": now.isoformat()})
        if not claimed or not notification.user.email:
            continue
        subject = f"[Social Service Desk] {notification.get_kind_display()}"
        if notification.ticket_id:
            subject += f" #{notification.ticket_id}"
        try:
            send_mail(subject, notification.text, None, [notification.user.email])
            sent += 1
        except Exception:
            logger.exception("e-mail of notification %s failed", notification.pk)
    return sent


# --------------------------------------------------------------------------- SLA clocks


def current_policy(kind: str, department: Department | None = None) -> tuple[int, int]:
    """(target_seconds, warn_percent) of the policy in force for `kind` (department first)."""
    policies = SlaPolicy.objects.filter(kind=kind).filter(
        Q(department__isnull=True) | Q(department=department)
        if department is not None
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
        _record_breach(clock, ticket=clock.ticket, now=at)
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
    clocks = SlaClock.objects.running().select_for_update().filter(ticket=ticket)
    if kinds:
        clocks = clocks.filter(kind__in=list(kinds))
    count = 0
    for clock in clocks.select_related("ticket"):
        stop_clock(clock, at=at, cancelled=True)
        count += 1
    refresh_sla_due(ticket)
    return count


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


def _groups(*names: str) -> dict[str, list[Any]]:
    """Active members of each group, in one query."""
    members: dict[str, list[Any]] = {name: [] for name in names}
    for user in User.objects.filter(groups__name__in=names, is_active=True).annotate(
        group_name=F("groups__name")
    ):
        members[user.group_name].append(user)
    return members


def _notification(
    user: Any, kind: str, *, ticket_id: int, text: str, at: datetime, key: str, **data: Any
) -> Notification:
    return Notification(
        user=user,
        kind=kind,
        ticket_id=ticket_id,
        text=text,
        created_at=at,
        dedupe_key=key,
        data=data,
    )


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
            "ticket__assignee",
            "department_request__department",
            "department_request__requested_by",
        )
        .prefetch_related("department_request__department__experts")
    )
    TicketEvent.objects.bulk_create(
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
    groups = _groups(roles.COMMUNITY_MANAGER, roles.SUPPORT_AGENT)
    notifications = []
    for clock in clocks:
        if sla.is_breached(clock.due_at, at=now):
            continue
        minutes = max(int(sla.remaining_seconds(clock.due_at, now=now) // 60), 0)
        text = _("Ticket #%(ticket)s: %(kind)s due in %(minutes)s min.") % {
            "ticket": clock.ticket_id,
            "kind": clock.get_kind_display(),
            "minutes": minutes,
        }
        recipients = {user.pk: user for user in _warning_recipients(clock, clock.ticket, groups)}
        notifications += [
            _notification(
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


def _apply_breaches(breaches: list[SlaBreach], *, now: datetime, enqueue_emails: bool) -> None:
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
    TicketEvent.objects.bulk_create(
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
    leads = _groups(roles.TEAM_LEAD)[roles.TEAM_LEAD]
    Notification.objects.bulk_create(
        [
            _notification(
                lead,
                NotificationKind.SLA_BREACH,
                ticket_id=breach.clock.ticket_id,
                at=now,
                key=f"breach:{breach.clock_id}",
                text=_("Ticket #%(ticket)s breached %(kind)s (due %(due)s).")
                % {
                    "ticket": breach.clock.ticket_id,
                    "kind": breach.clock.get_kind_display(),
                    "due": timezone.localtime(breach.due_at).strftime("%d.%m.%Y %H:%M:%S"),
                },
                email=True,
                clock_id=breach.clock_id,
            )
            for breach in breaches
            for lead in leads
        ],
        ignore_conflicts=True,
    )
    if leads and enqueue_emails:
        enqueue_on_commit(tasks.send_notification_emails_task)


def _insert_breaches(clocks: list[SlaClock], *, now: datetime) -> list[SlaBreach]:
    """INSERT … ON CONFLICT DO NOTHING on the unique clock: whichever path comes first
    records the breach; the others get nothing back and do nothing."""
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


def _record_breach(clock: SlaClock, *, ticket: Ticket, now: datetime) -> bool:
    """A late stop records its own breach (same rules as the sweep)."""
    breaches = _insert_breaches([clock], now=now)
    _apply_breaches(breaches, now=now, enqueue_emails=True)
    return bool(breaches)


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
    breaches = _insert_breaches(clocks, now=now)
    _apply_breaches(breaches, now=now, enqueue_emails=False)
    return len(breaches)


def _first_ids(queryset: Any) -> list[int]:
    return list(queryset.values_list("pk", flat=True)[:SLA_SWEEP_BATCH_SIZE])


def enforce_sla(*, now: datetime) -> int:
    """Record every SLA warning and breach due at `now`, fire due Wiedervorlagen and close
    private-data requests nobody answered. Safe to run concurrently; loops until nothing is
    due, so the first run after downtime catches up in full."""
    recorded = 0
    seen: set[int] = set()
    # Each batch leaves the query's set (warned, breached, or stopped meanwhile); `seen`
    # only guards against a clock another sweep holds locked right now.
    while clock_ids := [
        pk
        for pk in _first_ids(SlaClock.objects.warn_due(now).order_by("warn_at"))
        if pk not in seen
    ]:
        seen.update(clock_ids)
        recorded += record_sla_warnings(clock_ids, now=now)
    seen.clear()
    while clock_ids := [
        pk for pk in _first_ids(SlaClock.objects.overdue(now).order_by("due_at")) if pk not in seen
    ]:
        seen.update(clock_ids)
        recorded += record_sla_breaches(clock_ids, now=now)
    recorded += fire_due_resubmissions(now=now)
    recorded += close_unanswered_private_requests(now=now)
    return recorded


@transaction.atomic
def mark_no_service_case(ticket: Ticket, *, actor: Any) -> Ticket:
    """The CM says this mention needs an answer but is no service case: the running
    first-response clock is replaced by the 24-hour engagement clock from the same start."""
    now = timezone.now()
    if not (roles.is_community_manager(actor) or roles.is_team_lead(actor)):
        raise NotAllowedForRole(action="mark_no_service_case")
    ticket = lock_ticket(ticket)
    if ticket.state != TicketState.NEW or ticket.no_service_case:
        raise InvalidTransition(_("Only a new ticket can be marked as no service case."))
    running = list(
        SlaClock.objects.running()
        .select_for_update()
        .filter(ticket=ticket, kind=SlaKind.FIRST_RESPONSE)
        .select_related("ticket")
    )
    for clock in running:
        stop_clock(clock, at=now, cancelled=True)
        start_clock(
            ticket, SlaKind.ENGAGEMENT, started_at=clock.started_at, posted_at=clock.posted_at
        )
    refresh_sla_due(ticket)
    ticket.no_service_case = True
    ticket.updated_at = now
    ticket.save(update_fields=["no_service_case", "updated_at"])
    record_event(ticket, TicketEventKind.NO_SERVICE_CASE, actor=actor, at=now)
    return ticket


# --------------------------------------------------------------------------- lifecycle


@transaction.atomic
def assign_to_support(ticket: Ticket, *, actor: Any, note: str = "") -> Ticket:
    """CM hands the ticket to SoMe Support (new → support)."""
    now = timezone.now()
    ticket, _from = _fire(ticket, "assign_to_support", actor=actor, at=now, note=note)
    return ticket


@transaction.atomic
def return_to_cm(ticket: Ticket, *, actor: Any, reason: str) -> Ticket:
    """An agent gives the ticket back to the CM (support → new); `reason` required."""
    reason = _require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = _fire(ticket, "return_to_cm", actor=actor, at=now, note=reason)
    return ticket


@transaction.atomic
def take_ticket(ticket: Ticket, *, actor: Any, assignee: Any = None) -> Ticket:
    """Make `assignee` (default: the actor) the owner (support → in_progress).

    Only team leads take for someone else, and only for an active support agent.
    """
    now = timezone.now()
    assignee = assignee or actor
    if assignee.pk != actor.pk:
        if not roles.is_team_lead(actor):
            raise NotAllowedForRole(_("Only team leads assign tickets to someone else."))
        if not (roles.is_support_agent(assignee) or roles.is_team_lead(assignee)):
            raise InvalidArgument(_("The assignee must be a support agent."), field="assignee")
    ticket, _from = _fire(
        ticket,
        "take",
        actor=actor,
        at=now,
        assignee=assignee,
        update_fields=["assignee"],
        event_data={"assignee": assignee.pk},
    )
    if assignee.pk != actor.pk:
        notify(
            [assignee],
            NotificationKind.ASSIGNED,
            ticket=ticket,
            at=now,
            text=_("Ticket #%(ticket)s was assigned to you.") % {"ticket": ticket.pk},
        )
    return ticket


@transaction.atomic
def reassign_ticket(ticket: Ticket, *, actor: Any, assignee: Any) -> Ticket:
    """A team lead moves a ticket in the Support stage to another agent (no state change)."""
    now = timezone.now()
    if not roles.is_team_lead(actor):
        raise NotAllowedForRole(_("Only team leads reassign tickets."))
    if not (roles.is_support_agent(assignee) or roles.is_team_lead(assignee)):
        raise InvalidArgument(_("The assignee must be a support agent."), field="assignee")
    ticket = lock_ticket(ticket)
    if ticket.assignee_id is None or ticket.state not in OPEN_STATES:
        raise InvalidTransition(_("Only an assigned open ticket can be reassigned."))
    previous = ticket.assignee_id
    ticket.assignee = assignee
    ticket.updated_at = now
    ticket.save(update_fields=["assignee", "updated_at"])
    record_event(
        ticket,
        TicketEventKind.REASSIGN,
        actor=actor,
        at=now,
        previous=previous,
        assignee=assignee.pk,
    )
    notify(
        [assignee],
        NotificationKind.ASSIGNED,
        ticket=ticket,
        at=now,
        text=_("Ticket #%(ticket)s was assigned to you.") % {"ticket": ticket.pk},
    )
    return ticket


@transaction.atomic
def release_ticket(ticket: Ticket, *, actor: Any, reason: str) -> Ticket:
    """The assignee gives the ticket back to the queue (in_progress → support)."""
    reason = _require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = _fire(
        ticket, "release", actor=actor, at=now, note=reason, update_fields=["assignee"]
    )
    return ticket


@transaction.atomic
def request_private_data(
    ticket: Ticket,
    *,
    actor: Any,
    text: str = "",
    template: Any = None,
    in_reply_to_mention: Any = None,
) -> Ticket:
    """Ask the customer to send his data through a private channel (in_progress →
    waiting_customer): creates the ask-for-DM reply and submits it for review at once."""
    now = timezone.now()
    if template is not None and not text:
        text = render_template_text(template, ticket=ticket, actor=actor)
    text = _require_text(text, "text")
    ticket, _from = _fire(ticket, "request_private_data", actor=actor, at=now)
    mention = in_reply_to_mention or latest_customer_mention(ticket)
    reply = _create_reply(
        ticket,
        actor=actor,
        text=text,
        visibility=ReplyVisibility.PRIVATE if mention.is_private else ReplyVisibility.PUBLIC,
        kind=ReplyKind.ASK_PRIVATE,
        mention=mention,
        template=template,
        now=now,
    )
    _submit(reply, actor=actor, now=now)
    return ticket


@transaction.atomic
def ask_department(
    ticket: Ticket,
    *,
    actor: Any,
    department: Department,
    question: str,
    shared_mentions: Iterable[Any] = (),
) -> Ticket:
    """Send an internal request to a department (in_progress → waiting_department); its
    48-hour department-feedback clock starts now."""
    question = _require_text(question, "question")
    now = timezone.now()
    shared = list(shared_mentions)
    if any(mention.ticket_id != ticket.pk for mention in shared):
        raise InvalidArgument(
            _("Only mentions of this ticket can be shared."), field="shared_mentions"
        )
    ticket, _from = _fire(
        ticket,
        "ask_department",
        actor=actor,
        at=now,
        note=question,
        event_data={"department": department.slug},
    )
    target_seconds, _warn = current_policy(SlaKind.DEPARTMENT_FEEDBACK, department)
    request = DepartmentRequest.objects.create(
        ticket=ticket,
        department=department,
        question=question,
        requested_by=actor,
        created_at=now,
        due_at=now + timedelta(seconds=target_seconds),
    )
    request.shared_mentions.set(shared)
    start_clock(ticket, SlaKind.DEPARTMENT_FEEDBACK, started_at=now, department_request=request)
    notify(
        department.experts.filter(is_active=True),
        NotificationKind.DEPARTMENT_REQUEST,
        ticket=None,
        at=now,
        text=_("New request from the social media desk to %(department)s.")
        % {"department": department.name},
        department_request=request.pk,
    )
    return ticket


@transaction.atomic
def answer_department_request(request: DepartmentRequest, *, actor: Any, answer: str) -> Ticket:
    """An expert of the department answers; the department clock stops and the ticket goes
    back to the agent (system transition department_answered)."""
    answer = _require_text(answer, "answer")
    now = timezone.now()
    if not request.department.experts.filter(pk=actor.pk).exists():
        raise NotAllowedForRole(_("Only experts of this department answer its requests."))
    ticket = Ticket.objects.select_for_update().get(pk=request.ticket_id)
    request = DepartmentRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != DepartmentRequestStatus.OPEN:
        raise InvalidTransition(_("This request is no longer open."))
    request.status = DepartmentRequestStatus.ANSWERED
    request.answer = answer
    request.answered_by = actor
    request.answered_at = now
    request.closed_at = now
    request.save(update_fields=["status", "answer", "answered_by", "answered_at", "closed_at"])
    for clock in (
        SlaClock.objects.running()
        .select_for_update()
        .filter(department_request=request)
        .select_related("ticket")
    ):
        stop_clock(clock, at=now)
    refresh_sla_due(ticket)
    if (
        ticket.state == TicketState.WAITING_DEPARTMENT
        and not request.ticket.department_requests.filter(status=DepartmentRequestStatus.OPEN)
        .exclude(pk=request.pk)
        .exists()
    ):
        ticket, _from = _fire(
            ticket,
            "department_answered",
            actor=None,
            at=now,
            event_data={"department": request.department.slug, "expert": actor.pk},
        )
    notify(
        [ticket.assignee or request.requested_by],
        NotificationKind.DEPARTMENT_ANSWER,
        ticket=ticket,
        at=now,
        text=_("%(department)s answered on ticket #%(ticket)s.")
        % {"department": request.department.name, "ticket": ticket.pk},
    )
    return ticket


@transaction.atomic
def withdraw_department_request(ticket: Ticket, *, actor: Any, reason: str) -> Ticket:
    """The assignee withdraws the open request (waiting_department → in_progress); it is
    closed unanswered and its clock stops without an outcome."""
    reason = _require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = _fire(ticket, "withdraw_department_request", actor=actor, at=now, note=reason)
    for request in ticket.department_requests.select_for_update().filter(
        status=DepartmentRequestStatus.OPEN
    ):
        request.status = DepartmentRequestStatus.WITHDRAWN
        request.closed_at = now
        request.withdraw_reason = reason
        request.save(update_fields=["status", "closed_at", "withdraw_reason"])
    cancel_running_clocks(ticket, at=now, kinds=[SlaKind.DEPARTMENT_FEEDBACK])
    return ticket


@transaction.atomic
def close_no_response(ticket: Ticket, *, actor: Any) -> Ticket:
    """The customer never sent the private data (waiting_customer → resolved): by the
    assignee, or by the system after CLOSE_NO_RESPONSE_DAYS."""
    now = timezone.now()
    ticket, _from = _fire(
        ticket, "close_no_response", actor=actor, at=now, update_fields=["resolved_at"]
    )
    cancel_running_clocks(ticket, at=now)
    return ticket


def close_unanswered_private_requests(*, now: datetime) -> int:
    """System: close tickets that waited CLOSE_NO_RESPONSE_DAYS for the customer's data."""
    limit = now - timedelta(days=settings.CLOSE_NO_RESPONSE_DAYS)
    closed = 0
    ids = Ticket.objects.filter(
        state=TicketState.WAITING_CUSTOMER, state_changed_at__lte=limit
    ).values_list("pk", flat=True)
    for ticket in Ticket.objects.filter(pk__in=list(ids[:SLA_SWEEP_BATCH_SIZE])):
        try:
            with transaction.atomic():
                _fire(
                    ticket, "close_no_response", actor=None, at=now, update_fields=["resolved_at"],
                    note=_("Closed automatically: no answer from the customer."),
                )  # fmt: skip
                cancel_running_clocks(ticket, at=now)
            closed += 1
        except DomainError:
            continue  # moved meanwhile
    return closed


@transaction.atomic
def schedule_resubmission(
    ticket: Ticket, *, actor: Any, resubmission_on: date, handover_reference: str = ""
) -> Ticket:
    """Put the ticket on Wiedervorlage (in_progress → resubmission): it falls due at 08:00
    desk time on `resubmission_on` (tomorrow or later)."""
    now = timezone.now()
    if resubmission_on <= sla.desk_today(now):
        raise InvalidArgument(
            _("The follow-up date must be tomorrow or later."), field="resubmission_on"
        )
    due_at = sla.resubmission_due_at(resubmission_on)
    ticket, _from = _fire(
        ticket,
        "schedule_resubmission",
        actor=actor,
        at=now,
        on=resubmission_on,
        due_at=due_at,
        handover_reference=(handover_reference or "").strip(),
        update_fields=[
            "resubmission_on",
            "resubmission_due_at",
            "follow_up_due_at",
            "handover_reference",
        ],
        event_data={
            "resubmission_on": resubmission_on.isoformat(),
            "handover_reference": (handover_reference or "").strip(),
        },
    )
    return ticket


def fire_due_resubmissions(*, now: datetime) -> int:
    """System: every Wiedervorlage whose time has come goes back to work, flagged
    "follow-up due", and its assignee is notified."""
    fired = 0
    while ids := list(
        Ticket.objects.resubmission_due(now)
        .order_by("resubmission_due_at")
        .values_list("pk", flat=True)[:SLA_SWEEP_BATCH_SIZE]
    ):
        progressed = False
        for ticket in Ticket.objects.filter(pk__in=ids):
            try:
                with transaction.atomic():
                    ticket, _from = _fire(
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
                        text=_("Follow-up due for ticket #%(ticket)s.") % {"ticket": ticket.pk},
                    )
                fired += 1
                progressed = True
            except DomainError:
                continue
        if not progressed:
            break
    return fired


@transaction.atomic
def resolve_ticket(ticket: Ticket, *, actor: Any) -> Ticket:
    """Resolve (new by the CM, in_progress or resubmission by the assignee); guard: a reply
    of kind answer has been sent. Running clocks are cancelled."""
    now = timezone.now()
    ticket, _from = _fire(
        ticket, "resolve", actor=actor, at=now, update_fields=["resolved_at", "follow_up_due_at"]
    )
    cancel_running_clocks(ticket, at=now)
    return ticket


@transaction.atomic
def mark_unsolvable(ticket: Ticket, *, actor: Any, topic: Topic | str) -> Ticket:
    """The case cannot be solved (in_progress → unsolvable); it names a topic (existing or
    new) that stays under observation. Guard: an answer has been sent."""
    now = timezone.now()
    if isinstance(topic, str):
        name = _require_text(topic, "topic")
        topic, _created = Topic.objects.get_or_create(name=name, defaults={"created_at": now})
    ticket, _from = _fire(
        ticket,
        "mark_unsolvable",
        actor=actor,
        at=now,
        topic=topic,
        update_fields=["topic", "resolved_at", "follow_up_due_at"],
        event_data={"topic": topic.pk},
    )
    cancel_running_clocks(ticket, at=now)
    return ticket


@transaction.atomic
def dismiss_ticket(
    ticket: Ticket, *, actor: Any, reason: str, duplicate_of: Ticket | None = None
) -> Ticket:
    """No action needed (new → dismissed) with a reason; `duplicate` links the original.
    Running clocks are cancelled; breaches already recorded stay."""
    now = timezone.now()
    if reason not in DismissReason.values:
        raise InvalidArgument(_("Unknown reason."), field="reason")
    if reason == DismissReason.DUPLICATE:
        if duplicate_of is None:
            raise InvalidArgument(_("Name the original ticket."), field="duplicate_of")
        if duplicate_of.pk == ticket.pk:
            raise InvalidArgument(_("A ticket cannot duplicate itself."), field="duplicate_of")
    ticket, _from = _fire(
        ticket,
        "dismiss",
        actor=actor,
        at=now,
        reason=reason,
        update_fields=["dismiss_reason", "resolved_at"],
        event_data={"reason": reason, "duplicate_of": duplicate_of.pk if duplicate_of else None},
    )
    if reason == DismissReason.DUPLICATE and duplicate_of is not None:
        TicketLink.objects.get_or_create(
            from_ticket=ticket,
            to_ticket=duplicate_of,
            kind=LinkKind.DUPLICATE_OF,
            defaults={"created_by": actor, "created_at": now},
        )
    cancel_running_clocks(ticket, at=now)
    return ticket


def dismiss_tickets(
    tickets: Iterable[Ticket], *, actor: Any, reason: str
) -> tuple[list[Ticket], list[tuple[Ticket, DomainError]]]:
    """Bulk dismiss (spam): each ticket in its own transaction; returns (done, refused)."""
    done, refused = [], []
    for ticket in tickets:
        try:
            done.append(dismiss_ticket(ticket, actor=actor, reason=reason))
        except DomainError as error:
            refused.append((ticket, error))
    return done, refused


@transaction.atomic
def reopen_ticket(ticket: Ticket, *, actor: Any, reason: str) -> Ticket:
    """Reopen a closed ticket: resolved/unsolvable → in_progress if assigned else support
    (agents), dismissed → new (CMs)."""
    reason = _require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = _fire(
        ticket,
        "reopen",
        actor=actor,
        at=now,
        note=reason,
        update_fields=["resolved_at", "dismiss_reason"],
    )
    return ticket


def customer_replied(ticket: Ticket, *, mention: Any, now: datetime) -> bool:
    """System (called by the intake inside its transaction): the ticket's customer wrote
    again. The ticket goes back to work and a next-response clock starts. Returns False if a
    concurrent change got there first (the mention stays stored)."""
    try:
        with transaction.atomic():
            ticket, _from = _fire(
                ticket,
                "customer_replied",
                actor=None,
                at=now,
                update_fields=["resolved_at", "resubmission_on", "resubmission_due_at"],
                event_data={"mention": mention.pk},
            )
            if (
                ticket.starts_clocks
                and not SlaClock.objects.running()
                .filter(ticket=ticket, kind__in=RESPONSE_CLOCK_KINDS)
                .exists()
            ):
                start_clock(
                    ticket,
                    SlaKind.NEXT_RESPONSE,
                    started_at=mention.received_at,
                    posted_at=mention.created_at,
                )
    except DomainError:
        logger.info("customer_replied could not fire on ticket %s", ticket.pk)
        return False
    return True


# --------------------------------------------------------------------------- notes, links


@transaction.atomic
def add_note(ticket: Ticket, *, actor: Any, text: str) -> TicketNote:
    """An internal note (staff only, never sent)."""
    text = _require_text(text, "text")
    if not roles.is_desk_staff(actor):
        raise NotAllowedForRole()
    now = timezone.now()
    note = TicketNote.objects.create(ticket=ticket, author=actor, text=text, created_at=now)
    record_event(ticket, TicketEventKind.NOTE, actor=actor, at=now, note_id=note.pk)
    return note


@transaction.atomic
def link_tickets(ticket: Ticket, *, actor: Any, other: Ticket, kind: str) -> TicketLink:
    """Link `ticket` to `other` (related, follow-up of, duplicate of)."""
    if kind not in LinkKind.values:
        raise InvalidArgument(_("Unknown link kind."), field="kind")
    if other.pk == ticket.pk:
        raise InvalidArgument(_("A ticket cannot be linked to itself."), field="other")
    now = timezone.now()
    link, created = TicketLink.objects.get_or_create(
        from_ticket=ticket,
        to_ticket=other,
        kind=kind,
        defaults={"created_by": actor, "created_at": now},
    )
    if created:
        record_event(
            ticket, TicketEventKind.LINK, actor=actor, at=now, other=other.pk, link_kind=kind
        )
    return link


# --------------------------------------------------------------------------- replies


def latest_customer_mention(ticket: Ticket) -> Any:
    """The newest mention of the ticket's customer: what a reply answers by default."""
    mentions = ticket.mentions.filter(is_own_account=False).order_by("-created_at", "-id")
    mention = mentions.filter(identity__customer_id=ticket.customer_id).first() or mentions.first()
    if mention is None:
        raise InvalidArgument(
            _("This ticket has no mention to answer."), field="in_reply_to_mention"
        )
    return mention


def render_template_text(template: Any, *, ticket: Ticket, actor: Any) -> str:
    """A template's text with its placeholders filled for this ticket."""
    from guidelines.rendering import render_template_for

    return render_template_for(template, ticket=ticket, actor=actor)


def _ensure_may_draft(actor: Any) -> None:
    if not roles.is_desk_staff(actor):
        raise NotAllowedForRole(_("Only CMs, agents and team leads write replies."))


def _create_reply(
    ticket: Ticket,
    *,
    actor: Any,
    text: str,
    visibility: str,
    kind: str,
    mention: Any,
    template: Any,
    now: datetime,
) -> Reply:
    reply = Reply.objects.create(
        ticket=ticket,
        in_reply_to_mention=mention,
        visibility=visibility,
        kind=kind,
        text=text,
        template=template,
        author=actor,
        created_at=now,
        updated_at=now,
    )
    record_event(
        ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step="drafted",
        visibility=visibility,
        reply_kind=kind,
    )
    return reply


@transaction.atomic
def create_reply(
    ticket: Ticket,
    *,
    actor: Any,
    text: str,
    visibility: str,
    kind: str,
    in_reply_to_mention: Any = None,
    template: Any = None,
    submit: bool = False,
) -> Reply:
    """Draft a reply to one mention of an open ticket (optionally submitted at once)."""
    _ensure_may_draft(actor)
    text = _require_text(text, "text")
    if visibility not in ReplyVisibility.values:
        raise InvalidArgument(_("Unknown visibility."), field="visibility")
    if kind not in ReplyKind.values:
        raise InvalidArgument(_("Unknown kind."), field="kind")
    now = timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.state not in OPEN_STATES:
        raise InvalidTransition(_("Replies are written on open tickets only."))
    mention = in_reply_to_mention or latest_customer_mention(ticket)
    if mention.ticket_id != ticket.pk:
        raise InvalidArgument(
            _("The mention does not belong to this ticket."), field="in_reply_to_mention"
        )
    reply = _create_reply(
        ticket,
        actor=actor,
        text=text,
        visibility=visibility,
        kind=kind,
        mention=mention,
        template=template,
        now=now,
    )
    if submit:
        _submit(reply, actor=actor, now=now)
    return reply


def lock_reply(reply: Reply) -> Reply:
    """Lock the reply's ticket, then the reply; StaleState if its status moved."""
    Ticket.objects.select_for_update().filter(pk=reply.ticket_id).first()
    locked = (
        Reply.objects.select_for_update()
        .select_related("ticket__channel", "in_reply_to_mention")
        .get(pk=reply.pk)
    )
    if locked.status != reply.status:
        raise StaleState(expected=reply.status, actual=locked.status)
    return locked


def _save_reply(reply: Reply, fields: Iterable[str]) -> None:
    try:
        reply.save(update_fields=sorted({"status", "updated_at", *fields}))
    except ConcurrentTransition as error:
        raise StaleState() from error


def _submit(reply: Reply, *, actor: Any, now: datetime) -> Reply:
    if not can_proceed(reply.submit):
        raise InvalidTransition(_("Only a draft can be submitted."))
    needs_review = (
        reply.visibility == ReplyVisibility.PUBLIC
        or reply.ticket.channel.private_replies_need_review
    )
    reply.submit(needs_review=needs_review, at=now)
    if not needs_review and is_posted_by_hand(reply):
        reply.next_attempt_at = None  # nothing for the outbox: the author posts and confirms it
    reply.updated_at = now
    _save_reply(reply, ["submitted_at", "approved_at", "next_attempt_at"])
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step="submitted" if needs_review else "approved",
    )
    if needs_review:
        reviewers = [
            user
            for user in User.objects.filter(
                groups__name__in=roles.STAFF_GROUPS, is_active=True
            ).distinct()
            if user.pk != reply.author_id
            and (roles.is_support_agent(user) or roles.is_team_lead(user))
        ]
        notify(
            reviewers,
            NotificationKind.REVIEW_REQUEST,
            ticket=reply.ticket,
            at=now,
            dedupe_key=f"review:{reply.pk}:{now.isoformat()}",
            text=_("A reply on ticket #%(ticket)s waits for review.") % {"ticket": reply.ticket_id},
            reply=reply.pk,
        )
    elif reply.next_attempt_at is not None:
        enqueue_on_commit(tasks.send_reply_task, reply.pk)
    return reply


@transaction.atomic
def edit_reply(reply: Reply, *, actor: Any, text: str) -> Reply:
    """Only the author edits, and only a draft."""
    text = _require_text(text, "text")
    reply = lock_reply(reply)
    if reply.author_id != actor.pk:
        raise NotAllowedForRole(_("Only the author edits a reply."))
    if reply.status != ReplyStatus.DRAFT:
        raise InvalidTransition(_("Only a draft can be edited."))
    reply.text = text
    reply.updated_at = timezone.now()
    reply.save(update_fields=["text", "updated_at"])
    return reply


@transaction.atomic
def submit_reply(reply: Reply, *, actor: Any) -> Reply:
    """Send a draft for review (public), or approve it at once (private, unless the channel
    wants private replies reviewed). Only the author submits."""
    reply = lock_reply(reply)
    if reply.author_id != actor.pk:
        raise NotAllowedForRole(_("Only the author submits a reply."))
    return _submit(reply, actor=actor, now=timezone.now())


def _tell_author(reply: Reply, kind: str, text: str, *, now: datetime) -> None:
    """Notify a reply's author of what happened to it (review result, failed delivery)."""
    notify([reply.author], kind, ticket=reply.ticket, at=now, text=text, reply=reply.pk)


def _ensure_may_review(reply: Reply, actor: Any) -> None:
    if roles.is_api_client(actor) or not roles.is_desk_staff(actor):
        raise NotAllowedForRole(_("Only CMs, agents and team leads review replies."))
    if reply.author_id == actor.pk:
        raise SelfApprovalNotAllowed()


@transaction.atomic
def approve_reply(reply: Reply, *, actor: Any) -> Reply:
    """A second person approves (four-eyes); the outbox sends it after commit.

    Refuses SelfApprovalNotAllowed (the author) and NotAllowedForRole (api clients, experts).
    """
    _ensure_may_review(reply, actor)
    reply = lock_reply(reply)
    now = timezone.now()
    if not can_proceed(reply.approve):
        raise InvalidTransition(_("Only a reply waiting for review can be approved."))
    reply.approve(reviewer=actor, at=now)
    if is_posted_by_hand(reply):
        reply.next_attempt_at = None  # nothing for the outbox: the author posts and confirms it
    reply.updated_at = now
    _save_reply(reply, ["reviewer", "reviewed_at", "approved_at", "next_attempt_at"])
    record_event(
        reply.ticket, TicketEventKind.REPLY, actor=actor, at=now, reply=reply.pk, step="approved"
    )
    _tell_author(
        reply,
        NotificationKind.REVIEW_RESULT,
        _("Your reply on ticket #%(ticket)s was approved.") % {"ticket": reply.ticket_id},
        now=now,
    )
    if reply.next_attempt_at is not None:
        enqueue_on_commit(tasks.send_reply_task, reply.pk)
    return reply


@transaction.atomic
def reject_reply(reply: Reply, *, actor: Any, comment: str) -> Reply:
    """The reviewer sends the reply back to its author as a draft, with a comment."""
    comment = _require_text(comment, "comment")
    _ensure_may_review(reply, actor)
    reply = lock_reply(reply)
    now = timezone.now()
    if not can_proceed(reply.reject):
        raise InvalidTransition(_("Only a reply waiting for review can be rejected."))
    reply.reject(reviewer=actor, comment=comment, at=now)
    reply.updated_at = now
    _save_reply(reply, ["reviewer", "reviewed_at", "review_comment"])
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        note=comment,
        reply=reply.pk,
        step="rejected",
    )
    _tell_author(
        reply,
        NotificationKind.REVIEW_RESULT,
        _("Your reply on ticket #%(ticket)s was rejected: %(comment)s")
        % {"ticket": reply.ticket_id, "comment": comment},
        now=now,
    )
    return reply


@transaction.atomic
def retry_reply(reply: Reply, *, actor: Any) -> Reply:
    """A person sends a failed reply again (after checking the platform)."""
    if not roles.is_desk_staff(actor):
        raise NotAllowedForRole()
    reply = lock_reply(reply)
    now = timezone.now()
    if not can_proceed(reply.retry):
        raise InvalidTransition(_("Only a failed reply can be retried."))
    reply.retry(at=now)
    reply.updated_at = now
    _save_reply(reply, ["next_attempt_at"])
    record_event(
        reply.ticket, TicketEventKind.REPLY, actor=actor, at=now, reply=reply.pk, step="retry"
    )
    enqueue_on_commit(tasks.send_reply_task, reply.pk)
    return reply


def is_posted_by_hand(reply: Reply) -> bool:
    """The reply's channel cannot post it (RSS: review sites, forums, blogs): once approved,
    its author posts it by hand and confirms the permalink; the outbox never takes it."""
    from monitoring.adapters import adapter_for

    capability = "reply_private" if reply.visibility == ReplyVisibility.PRIVATE else "reply_public"
    return capability not in adapter_for(reply.ticket.channel).capabilities


@transaction.atomic
def confirm_reply_posted(reply: Reply, *, actor: Any, permalink: str) -> Reply:
    """On a channel whose adapter cannot post, the author confirms the hand-posted reply
    with its permalink; it counts as sent now (and stops the response clocks)."""
    from monitoring.adapters import adapter_for

    permalink = _require_text(permalink, "permalink")
    reply = lock_reply(reply)
    if reply.author_id != actor.pk:
        raise NotAllowedForRole(_("Only the author confirms a hand-posted reply."))
    capability = "reply_private" if reply.visibility == ReplyVisibility.PRIVATE else "reply_public"
    if capability in adapter_for(reply.ticket.channel).capabilities:
        raise InvalidTransition(_("This channel posts replies itself."))
    now = timezone.now()
    if not can_proceed(reply.confirm_posted):
        raise InvalidTransition(_("Only an approved reply can be confirmed as posted."))
    reply.confirm_posted(permalink=permalink, at=now)
    reply.updated_at = now
    _save_reply(reply, ["permalink", "sent_at", "next_attempt_at"])
    _after_sent(reply, actor=actor, now=now)
    return reply


def _after_sent(reply: Reply, *, actor: Any, now: datetime) -> None:
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step="sent",
        platform_id=reply.platform_id,
    )
    stop_response_clocks(reply.ticket, reply=reply, at=now)


# ---- delivery steps, called by tickets.outbox only


@transaction.atomic
def claim_reply_for_sending(reply_id: int, *, now: datetime) -> Reply | None:
    """Mark an approved, due reply `sending` before the platform call (compare-and-set):
    of two workers only one gets it. None if it is not due, someone else has it, or its
    author posts it by hand."""
    reply = (
        Reply.objects.select_for_update(skip_locked=True)
        .select_related("ticket__channel", "in_reply_to_mention", "ticket__customer")
        .filter(pk=reply_id, status=ReplyStatus.APPROVED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .first()
    )
    if reply is None or is_posted_by_hand(reply):
        return None
    reply.start_sending(at=now)
    reply.updated_at = now
    _save_reply(reply, ["attempts", "sending_started_at"])
    return reply


@transaction.atomic
def record_reply_sent(reply_id: int, *, platform_id: str, permalink: str, now: datetime) -> Reply:
    """The platform accepted the reply: sent; the response clocks stop now."""
    reply = Reply.objects.get(pk=reply_id)
    reply = lock_reply(reply)
    if reply.status != ReplyStatus.SENDING:
        return reply
    reply.mark_sent(platform_id=platform_id, permalink=permalink, at=now)
    reply.updated_at = now
    _save_reply(reply, ["platform_id", "permalink", "sent_at", "last_error", "next_attempt_at"])
    _after_sent(reply, actor=None, now=now)
    return reply


@transaction.atomic
def record_reply_attempt_failed(
    reply_id: int, *, error: str, now: datetime, retry_at: datetime | None
) -> Reply:
    """A failed attempt: back to approved with the next attempt time, or `failed` (with the
    error) when no retry is left or the outcome is unknown; the author is notified."""
    reply = lock_reply(Reply.objects.get(pk=reply_id))
    if reply.status != ReplyStatus.SENDING:
        return reply
    if retry_at is not None:
        reply.schedule_retry(error=error, next_attempt_at=retry_at)
        reply.updated_at = now
        _save_reply(reply, ["last_error", "next_attempt_at"])
        return reply
    reply.mark_failed(error=error)
    reply.updated_at = now
    _save_reply(reply, ["last_error", "next_attempt_at"])
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=None,
        at=now,
        note=error,
        reply=reply.pk,
        step="failed",
    )
    _tell_author(
        reply,
        NotificationKind.REPLY_FAILED,
        _("Your reply on ticket #%(ticket)s could not be delivered: %(error)s")
        % {"ticket": reply.ticket_id, "error": error},
        now=now,
    )
    return reply


def notify_new_mentions(ticket_ids: list[int], *, now: datetime) -> int:
    """In-app notice to the assignee of each ticket that received new mentions."""
    created = 0
    for ticket in Ticket.objects.filter(pk__in=ticket_ids, assignee__isnull=False).select_related(
        "assignee"
    ):
        created += len(
            notify(
                [ticket.assignee],
                NotificationKind.ASSIGNED,
                ticket=ticket,
                at=now,
                text=_("New message on ticket #%(ticket)s.") % {"ticket": ticket.pk},
            )
        )
    return created


# --------------------------------------------------------------------------- SLA policies


@transaction.atomic
def update_sla_policy(
    policy: SlaPolicy, *, actor: Any, target_seconds: int, warn_percent: int
) -> SlaPolicy:
    """Set a policy's target and warning percentage (superusers only). Clocks already
    started keep their deadlines; the change applies to clocks started after it.

    Refuses NotAllowedForRole (not a superuser) and InvalidArgument (target below 1 second,
    warning outside 1–100 %)."""
    if not getattr(actor, "is_superuser", False):
        raise NotAllowedForRole(action="update_sla_policy")
    if target_seconds < 1:
        raise InvalidArgument(_("The target must be at least 1 second."), field="target_seconds")
    if not 1 <= warn_percent <= 100:
        raise InvalidArgument(
            _("The warning must lie between 1 and 100 percent."), field="warn_percent"
        )
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    policy.target_seconds = target_seconds
    policy.warn_percent = warn_percent
    policy.save(update_fields=["target_seconds", "warn_percent", "updated_at"])
    logger.info("SLA policy %s changed by user %s", policy.pk, actor.pk)
    return policy
