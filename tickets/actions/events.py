"""The plumbing every ticket action shares: the ticket lock, the one writer of ticket events,
and firing a transition of `tickets.transitions` (lock, check, change, save, event)."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from knowledge import actions as knowledge_actions
from servicedesk.errors import (
    GuardFailed,
    InvalidArgument,
    InvalidTransition,
    NotAllowedForRole,
    ReplyNotSent,
    StaleState,
    SystemTransitionOnly,
)
from servicedesk.queue import enqueue_on_commit
from servicedesk.sql import bulk_insert
from tickets.choices import TicketEventKind, TicketState, is_handover
from tickets.models import Ticket, TicketEvent
from tickets.transitions import ANSWER_GUARDED, SYSTEM_TRANSITIONS, TIMED_TRANSITIONS

ROUTE_TASK = "tickets.tasks.route_support_task"
# Leaving these states frees capacity (tickets.actions.routing.LOAD_STATES).
_LOAD_STATES = frozenset(
    {TicketState.IN_PROGRESS, TicketState.WAITING_CUSTOMER, TicketState.WAITING_DEPARTMENT}
)


def lock_ticket(ticket: Ticket) -> Ticket:
    """Re-read `ticket` with a row lock; StaleState if its state moved since it was loaded.

    Of two people acting at once on the same ticket, the second gets the conflict.
    """
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.state != ticket.state:
        raise StaleState(expected=ticket.state, actual=locked.state)
    return locked


def write_events(events: Sequence[TicketEvent]) -> Sequence[TicketEvent]:
    """Insert ticket events in one statement and set their ids. Every ticket event of the
    desk is written here (one at a time by `record_event` / `record_transition`, in bulk by
    the intake and the sweeps); nothing else inserts into the timeline."""
    bulk_insert(events)
    return events


def record_event(
    ticket: Ticket | int,
    kind: str,
    *,
    actor: Any,
    at: datetime,
    note: str = "",
    **data: Any,
) -> TicketEvent:
    """One event of `kind` on `ticket` (an object or an id)."""
    ticket_id = ticket if isinstance(ticket, int) else ticket.pk
    event = TicketEvent(
        ticket_id=ticket_id, kind=kind, actor=actor, created_at=at, note=note, data=data
    )
    write_events([event])
    return event


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
    event = TicketEvent(
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
    write_events([event])
    return event


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


def fire_transition(
    ticket: Ticket,
    name: str,
    *,
    actor: Any,
    at: datetime,
    note: str = "",
    update_fields: Iterable[str] = (),
    event_data: dict[str, Any] | None = None,
    already_locked: bool = False,
    **arguments: Any,
) -> tuple[Ticket, str]:
    """Lock, check and perform one transition; save; write its event. Returns (ticket, from).

    `already_locked`: the caller read `ticket` with its row lock in this transaction (routing claims
    waiting cases FOR UPDATE SKIP LOCKED), so it is not read again.
    Refuses NotAllowedForRole (a person without the role), StaleState (moved meanwhile),
    InvalidTransition (not from this state) and ReplyNotSent / GuardFailed (a guard).
    """
    locked = ticket if already_locked else lock_ticket(ticket)
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
        if name in ANSWER_GUARDED:
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
    if locked.state == TicketState.SUPPORT or (
        from_state in _LOAD_STATES and locked.state not in _LOAD_STATES
    ):
        # A case joined the Support pool, or an agent's capacity freed: route at once
        # (the routing sweep does the same every few seconds).
        enqueue_on_commit(ROUTE_TASK)
    if TicketState.RESOLVED in (from_state, locked.state) and from_state != locked.state:
        # The articles used in this case count towards resolved cases while it stays resolved.
        knowledge_actions.record_case_outcome(
            locked.pk,
            actor=actor,
            resolved_at=at if locked.state == TicketState.RESOLVED else None,
        )
    return locked, from_state


def require_text(value: str, field: str) -> str:
    """`value` stripped; InvalidArgument for `field` if nothing is left."""
    value = (value or "").strip()
    if not value:
        raise InvalidArgument(_("This field is required."), field=field)
    return value
