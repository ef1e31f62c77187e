"""The ticket's lifecycle (DESIGN §3.1): one action per human transition, the system's
`customer_replied`, and the CM's "no service case". Each locks the ticket, fires its
transition of `tickets.transitions` and writes the event (`fire_transition`), then does
what follows in the same transaction (clocks, links, notifications)."""

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.errors import DomainError, InvalidArgument, InvalidTransition, NotAllowedForRole
from staffing import actions as staffing_actions
from tickets import access, sla
from tickets.actions.clocks import cancel_running_clocks, refresh_sla_due, start_clock, stop_clock
from tickets.actions.events import fire_transition, lock_ticket, record_event, require_text
from tickets.actions.notifications import notify
from tickets.actions.replies import draft_reply, submit_draft
from tickets.actions.triage_labels import on_assigned, on_dismissed
from tickets.choices import (
    OPEN_STATES,
    RESPONSE_CLOCK_KINDS,
    DismissReason,
    LinkKind,
    NotificationKind,
    ReplyKind,
    ReplyVisibility,
    SlaKind,
    TicketEventKind,
    TicketState,
)
from tickets.models import SlaClock, Ticket, TicketLink, Topic
from tickets.reply_context import answered_mention, render_template_text

logger = logging.getLogger(__name__)
ASSIGNMENT_FIELDS = ["assignee", "assigned_by", "assigned_by_routing", "assigned_at"]


@transaction.atomic
def assign_to_support(ticket: Ticket, *, actor: Any, note: str = "") -> Ticket:
    """CM hands the ticket to SoMe Support (new → support)."""
    now = timezone.now()
    ticket, _from = fire_transition(ticket, "assign_to_support", actor=actor, at=now, note=note)
    on_assigned(ticket, actor=actor, now=now)
    return ticket


@transaction.atomic
def return_to_cm(ticket: Ticket, *, actor: Any, reason: str) -> Ticket:
    """An agent gives the ticket back to the CM (support → new); `reason` required."""
    reason = require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = fire_transition(ticket, "return_to_cm", actor=actor, at=now, note=reason)
    return ticket


@transaction.atomic
def take_ticket(ticket: Ticket, *, actor: Any, assignee: Any = None) -> Ticket:
    """Make `assignee` (default: the actor) the owner (support → in_progress).

    Only team leads take for someone else, and only for an active support agent.
    """
    now = timezone.now()
    assignee = assignee or actor
    if assignee.pk != actor.pk:
        if not access.may_assign_others(actor):
            raise NotAllowedForRole(_("Only team leads assign tickets to someone else."))
        if not access.may_be_assignee(assignee):
            raise InvalidArgument(_("The assignee must be a support agent."), field="assignee")
    ticket, _from = fire_transition(
        ticket,
        "take",
        actor=actor,
        at=now,
        assignee=assignee,
        by=actor,
        update_fields=ASSIGNMENT_FIELDS,
        event_data={"assignee": assignee.pk},
    )
    # Ticket before agent row, as everywhere: routing counts this case from now on.
    staffing_actions.lock_member(assignee.pk)
    if assignee.pk != actor.pk:
        notify(
            [assignee],
            NotificationKind.ASSIGNED,
            ticket=ticket,
            at=now,
            text=lambda: _("Ticket #%(ticket)s was assigned to you.") % {"ticket": ticket.pk},
        )
    return ticket


@transaction.atomic
def reassign_ticket(ticket: Ticket, *, actor: Any, assignee: Any) -> Ticket:
    """A team lead moves a ticket in the Support stage to another agent (no state change)."""
    now = timezone.now()
    if not access.may_assign_others(actor):
        raise NotAllowedForRole(_("Only team leads reassign tickets."))
    if not access.may_be_assignee(assignee):
        raise InvalidArgument(_("The assignee must be a support agent."), field="assignee")
    ticket = lock_ticket(ticket)
    if ticket.assignee_id is None or ticket.state not in OPEN_STATES:
        raise InvalidTransition(_("Only an assigned open ticket can be reassigned."))
    previous = ticket.assignee_id
    ticket.assignee = assignee
    ticket.assigned_by = actor
    ticket.assigned_by_routing = False
    ticket.assigned_at = now
    ticket.updated_at = now
    ticket.save(update_fields=[*ASSIGNMENT_FIELDS, "updated_at"])
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
        text=lambda: _("Ticket #%(ticket)s was assigned to you.") % {"ticket": ticket.pk},
    )
    return ticket


@transaction.atomic
def release_ticket(ticket: Ticket, *, actor: Any, reason: str) -> Ticket:
    """The assignee gives the ticket back to the queue (in_progress → support)."""
    reason = require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = fire_transition(
        ticket, "release", actor=actor, at=now, note=reason, update_fields=ASSIGNMENT_FIELDS
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
    mention = answered_mention(ticket, in_reply_to_mention)
    if template is not None and not text:
        text = render_template_text(template, ticket=ticket, actor=actor, mention=mention)
    text = require_text(text, "text")
    ticket, _from = fire_transition(ticket, "request_private_data", actor=actor, at=now)
    reply = draft_reply(
        ticket,
        actor=actor,
        text=text,
        visibility=ReplyVisibility.PRIVATE if mention.is_private else ReplyVisibility.PUBLIC,
        kind=ReplyKind.ASK_PRIVATE,
        mention=mention,
        template=template,
        now=now,
    )
    submit_draft(reply, actor=actor, now=now)
    return ticket


@transaction.atomic
def close_no_response(ticket: Ticket, *, actor: Any) -> Ticket:
    """The customer never sent the private data (waiting_customer → resolved): by the
    assignee, or by the system after CLOSE_NO_RESPONSE_DAYS."""
    now = timezone.now()
    ticket, _from = fire_transition(
        ticket, "close_no_response", actor=actor, at=now, update_fields=["resolved_at"]
    )
    cancel_running_clocks(ticket, at=now)
    return ticket


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
    ticket, _from = fire_transition(
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


@transaction.atomic
def reschedule_resubmission(ticket: Ticket, *, actor: Any, resubmission_on: date) -> Ticket:
    """Change the date of a Wiedervorlage (resubmission → resubmission, tomorrow or later);
    its event keeps the old and the new date."""
    now = timezone.now()
    if resubmission_on <= sla.desk_today(now):
        raise InvalidArgument(
            _("The follow-up date must be tomorrow or later."), field="resubmission_on"
        )
    previous = Ticket.objects.filter(pk=ticket.pk).values_list("resubmission_on", flat=True).first()
    ticket, _from = fire_transition(
        ticket,
        "reschedule_resubmission",
        actor=actor,
        at=now,
        on=resubmission_on,
        due_at=sla.resubmission_due_at(resubmission_on),
        update_fields=["resubmission_on", "resubmission_due_at"],
        event_data={
            "resubmission_on": resubmission_on.isoformat(),
            "previous_resubmission_on": previous.isoformat() if previous else "",
        },
    )
    return ticket


@transaction.atomic
def resume_early(ticket: Ticket, *, actor: Any, note: str = "") -> Ticket:
    """Take a Wiedervorlage up again before its date (resubmission → in_progress)."""
    ticket, _from = fire_transition(
        ticket,
        "resume_early",
        actor=actor,
        at=timezone.now(),
        note=(note or "").strip(),
        update_fields=["resubmission_on", "resubmission_due_at"],
    )
    return ticket


@transaction.atomic
def resolve_ticket(ticket: Ticket, *, actor: Any) -> Ticket:
    """Resolve (new by the CM, in_progress or resubmission by the assignee); guard: a reply
    of kind answer has been sent. Running clocks are cancelled."""
    now = timezone.now()
    ticket, _from = fire_transition(
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
        name = require_text(topic, "topic")
        topic, _created = Topic.objects.get_or_create(name=name, defaults={"created_at": now})
    ticket, _from = fire_transition(
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
    ticket, _from = fire_transition(
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
    on_dismissed(ticket, reason=reason, actor=actor, now=now)
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
    reason = require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = fire_transition(
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
            ticket, _from = fire_transition(
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


@transaction.atomic
def mark_no_service_case(ticket: Ticket, *, actor: Any) -> Ticket:
    """The CM says this mention needs an answer but is no service case: the running
    first-response clock is replaced by the 24-hour engagement clock from the same start."""
    now = timezone.now()
    if not access.may_triage(actor):
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
