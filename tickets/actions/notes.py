"""Internal notes on tickets (staff only, never sent) and links between tickets."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.errors import InvalidArgument, NotAllowedForRole
from tickets import access
from tickets.actions.events import record_event, require_text
from tickets.choices import LinkKind, TicketEventKind
from tickets.models import Ticket, TicketLink, TicketNote


@transaction.atomic
def add_note(ticket: Ticket, *, actor: Any, text: str) -> TicketNote:
    """An internal note (staff only, never sent)."""
    text = require_text(text, "text")
    if not access.may_draft_replies(actor):
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
