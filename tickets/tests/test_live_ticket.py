"""Issue 17: the open ticket page updates in place. Its htmx poll answers 204 after a
constant, small number of queries when nothing changed, and otherwise re-sends the
conversation (new mentions marked), history and state out of band."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets import actions
from tickets.tests.factories import MentionFactory, TicketFactory

pytestmark = pytest.mark.django_db

# Session, user, second factor, profile, groups (the middleware's), the ticket, its stamp.
QUERIES_PER_QUIET_POLL = 7


def _poll(client: Any, ticket: Any, since: Any) -> Any:
    return client.get(
        reverse("tickets:ticket_changes", args=[ticket.pk]), {"since": since.isoformat()}
    )


def test_the_page_polls_for_changes(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)

    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()

    assert 'id="ticket-live"' in page and 'hx-trigger="every 5s"' in page


def test_a_quiet_poll_is_204_and_cheap(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)
    later = timezone.now() + timedelta(seconds=1)
    _poll(client, ticket, later)  # warm the session

    with CaptureQueriesContext(connection) as queries:
        response = _poll(client, ticket, later)

    assert response.status_code == 204 and response.content == b""
    assert len(queries) <= QUERIES_PER_QUIET_POLL, [q["sql"][:80] for q in queries]


def test_a_new_mention_is_sent_in_place_and_marked(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)
    since = timezone.now()
    mention = MentionFactory(
        ticket=ticket, channel=ticket.channel, customer=ticket.customer, text="Noch da? 🚲"
    )

    response = _poll(client, ticket, since)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="conversation-thread" hx-swap-oob="true"' in body
    assert f'id="mention-{mention.pk}"' in body and "new-message" in body
    assert 'id="timeline-list" hx-swap-oob="true"' in body
    assert 'id="ticket-state"' in body
    assert 'id="ticket-live"' in body  # the poller goes on, from the new moment


def test_a_transition_is_sent_in_place(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)
    since = timezone.now()
    actions.assign_to_support(ticket, actor=cm)

    body = _poll(client, ticket, since).content.decode()

    assert 'data-state="support"' in body
    assert "transition" in body


def test_a_malformed_since_is_400(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)

    response = client.get(reverse("tickets:ticket_changes", args=[ticket.pk]), {"since": "x"})

    assert response.status_code == 400
