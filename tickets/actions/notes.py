"""Internal notes on tickets (staff only, never sent), links between tickets, and the link of
an open ticket to a topic under observation (repeated demand, issue 17)."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.errors import InvalidArgument, NotAllowedForRole
from tickets import access
from tickets.actions.events import record_event, require_text
from tickets.choices import OPEN_STATES, LinkKind, TicketEventKind
from tickets.models import Ticket, TicketLink, TicketNote, Topic


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


@transaction.atomic
def link_topic(ticket: Ticket, *, actor: Any, topic: Topic | str) -> Ticket:
    """Link an open ticket to a topic (an existing one, or a new one by name): it counts in
    the topic's tickets; not only unsolvable cases name a topic. Staff only."""
    if not access.may_draft_replies(actor):
        raise NotAllowedForRole()
    now = timezone.now()
    if isinstance(topic, str):
        name = require_text(topic, "topic")
        if len(name) > 255:
            raise InvalidArgument(_("A topic name has at most 255 characters."), field="topic")
        topic, _created = Topic.objects.get_or_create(name=name, defaults={"created_at": now})
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.state not in OPEN_STATES:
        raise InvalidArgument(_("Only open tickets are linked to a topic here."), field="topic")
    if locked.topic_id == topic.pk:
        return locked
    locked.topic = topic
    locked.updated_at = now
    locked.save(update_fields=["topic", "updated_at"])
    record_event(locked, TicketEventKind.LINK, actor=actor, at=now, topic=topic.pk)
    return locked
