"""Who may see what in the tickets API. Role rules are the predicates of tickets.models,
checked by the actions (403); visibility is `visible_to(...)` (404)."""

from typing import Any

from django.db.models import QuerySet

from servicedesk import roles
from tickets.models import Reply, Ticket


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user)


def visible_replies(user: Any) -> QuerySet[Reply]:
    """Replies of the tickets `user` may see (the same rule as the tickets)."""
    if roles.sees_all_tickets(user):
        return Reply.objects.all()
    return Reply.objects.none()
