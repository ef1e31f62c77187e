"""The open ticket page, live (issue 17): htmx polls a small "changes since" answer every
5 s. Nothing changed: 204 and no body, after one query beyond the session (the ticket with
the newest moment of its events, mentions and replies, `live_stamp`). Something changed: the
conversation (new mentions marked "neue Nachricht"), the history and the state badge are
sent again and swapped in place out of band, the composer is left alone."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Max, OuterRef, Subquery
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from monitoring.adapters import capabilities_of
from monitoring.models import Mention
from servicedesk.timewindow import parse_moment
from servicedesk.web import desk_staff_required
from tickets import access
from tickets.models import Reply, Ticket, TicketEvent
from tickets.views.ticket import _conversation, _timeline


def _newest(model: Any, field: str) -> Subquery:
    rows = model.objects.filter(ticket=OuterRef("pk")).values("ticket").annotate(m=Max(field))
    return Subquery(rows.values("m")[:1], output_field=DateTimeField())


def live_stamp(ticket_id: int) -> datetime | None:
    """The newest moment anything of the ticket changed, in one query."""
    return (
        Ticket.objects.filter(pk=ticket_id)
        .annotate(
            stamp=Greatest(
                "updated_at",
                _newest(TicketEvent, "created_at"),
                _newest(Mention, "received_at"),
                _newest(Reply, "updated_at"),
            )
        )
        .values_list("stamp", flat=True)
        .first()
    )


@desk_staff_required
@require_GET
def ticket_changes(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, pk)
    try:
        since = parse_moment(request.GET.get("since", ""))
    except ValidationError as error:
        return HttpResponse(
            " ".join(error.messages), status=400, content_type="text/plain; charset=utf-8"
        )
    stamp = live_stamp(ticket.pk)
    if stamp is None or stamp <= since:
        return HttpResponse(status=204)
    new_mentions = set(
        ticket.mentions.filter(received_at__gt=since, is_own_account=False).values_list(
            "pk", flat=True
        )
    )
    changes = []
    if new_mentions:
        changes.append(_("new message"))
    if ticket.replies.filter(updated_at__gt=since).exists():
        changes.append(_("reply state"))
    if ticket.events.filter(created_at__gt=since, kind="transition").exists():
        changes.append(pgettext("live change", "transition"))
    if ticket.notes.filter(created_at__gt=since).exists():
        changes.append(pgettext("live change", "note"))
    return render(
        request,
        "tickets/partials/ticket_live.html",
        {
            "ticket": ticket,
            "oob": True,
            "live_since": stamp.isoformat(),
            "live_changes": changes,
            "new_mentions": new_mentions,
            "conversation": _conversation(ticket),
            "timeline": _timeline(ticket),
            "capabilities": capabilities_of(ticket.channel),
            "can_post_public": "reply_public" in capabilities_of(ticket.channel),
        },
    )
