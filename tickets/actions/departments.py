"""Internal requests to specialist departments (Rückfragen, DESIGN §2 step 6): asked by the
assignee with the mentions the expert may see, answered by an expert of the department,
or withdrawn. Each runs its own 48-hour department-feedback clock."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.errors import InvalidArgument, InvalidTransition, NotAllowedForRole
from tickets import access
from tickets.actions.clocks import (
    cancel_running_clocks,
    current_policy,
    refresh_sla_due,
    start_clock,
    stop_clock,
)
from tickets.actions.events import fire_transition, require_text
from tickets.actions.notifications import notify
from tickets.actions.triage_labels import on_department_asked
from tickets.choices import DepartmentRequestStatus, NotificationKind, SlaKind, TicketState
from tickets.models import Department, DepartmentRequest, SlaClock, Ticket
from tickets.reply_context import active_personal_data_patterns, personal_data_in


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
    question = require_text(question, "question")
    now = timezone.now()
    shared = list(shared_mentions)
    if any(mention.ticket_id != ticket.pk for mention in shared):
        raise InvalidArgument(
            _("Only mentions of this ticket can be shared."), field="shared_mentions"
        )
    refuse_sharing_personal_data(shared)
    ticket, _from = fire_transition(
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
    on_department_asked(ticket, department=department.slug, actor=actor, now=now)
    notify(
        department.experts.filter(is_active=True),
        NotificationKind.DEPARTMENT_REQUEST,
        ticket=None,
        at=now,
        text=lambda: (
            _("New request from the social media desk to %(department)s.")
            % {"department": department.name}
        ),
        department_request=request.pk,
    )
    return ticket


def refuse_sharing_personal_data(mentions: list[Any]) -> None:
    """Issue 15, point 7: a department request does not pre-share a post in which the
    guideline checks find personal data (InvalidArgument naming the posts); the question may
    say what the department needs to know instead."""
    if not mentions:
        return
    patterns = active_personal_data_patterns()
    flagged = [
        (mention.pk, found)
        for mention in mentions
        if (found := personal_data_in(mention.text, patterns))
    ]
    if flagged:
        raise InvalidArgument(
            _(
                "Posts with personal data are not shared with a department (%(posts)s). "
                "Leave them out and describe in the question what the department needs."
            )
            % {"posts": "; ".join(f"#{pk}: {', '.join(found)}" for pk, found in flagged)},
            field="shared_mentions",
        )


@transaction.atomic
def answer_department_request(request: DepartmentRequest, *, actor: Any, answer: str) -> Ticket:
    """An expert of the department answers; the department clock stops and the ticket goes
    back to the agent (system transition department_answered)."""
    answer = require_text(answer, "answer")
    now = timezone.now()
    if not access.may_answer_for_department(actor, request):
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
        ticket, _from = fire_transition(
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
        text=lambda: (
            _("%(department)s answered on ticket #%(ticket)s.")
            % {"department": request.department.name, "ticket": ticket.pk}
        ),
    )
    return ticket


@transaction.atomic
def withdraw_department_request(ticket: Ticket, *, actor: Any, reason: str) -> Ticket:
    """The assignee withdraws the open request (waiting_department → in_progress); it is
    closed unanswered and its clock stops without an outcome."""
    reason = require_text(reason, "reason")
    now = timezone.now()
    ticket, _from = fire_transition(
        ticket, "withdraw_department_request", actor=actor, at=now, note=reason
    )
    for request in ticket.department_requests.select_for_update().filter(
        status=DepartmentRequestStatus.OPEN
    ):
        request.status = DepartmentRequestStatus.WITHDRAWN
        request.closed_at = now
        request.withdraw_reason = reason
        request.save(update_fields=["status", "closed_at", "withdraw_reason"])
    cancel_running_clocks(ticket, at=now, kinds=[SlaKind.DEPARTMENT_FEEDBACK])
    return ticket
