"""Test helpers: put a ticket into any state through its real transitions' fields."""

from typing import Any

from django.utils import timezone

from tickets.choices import ReplyStatus, TicketState
from tickets.models import Reply, Ticket


def force_state(ticket: Ticket, state: str, *, assignee: Any = None) -> Ticket:
    """Write a state directly (test set-up only: bypasses the protected field)."""
    fields: dict[str, Any] = {"state": state, "state_changed_at": timezone.now()}
    if assignee is not None:
        fields["assignee"] = assignee
    if state in (TicketState.RESOLVED, TicketState.UNSOLVABLE, TicketState.DISMISSED):
        fields["resolved_at"] = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    return Ticket.objects.get(pk=ticket.pk)


def force_reply_status(reply: Reply, status: str, **fields: Any) -> Reply:
    if status == ReplyStatus.SENT:
        fields.setdefault("sent_at", timezone.now())
    Reply.objects.filter(pk=reply.pk).update(status=status, **fields)
    return Reply.objects.get(pk=reply.pk)
