"""The support queue: tabs, take, release, reassign, refusals and the query budget."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets.choices import TicketState
from tickets.tests.factories import TicketFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db


def test_agent_takes_a_ticket_from_the_queue(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)
    client.force_login(agent)

    client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, "take"]),
        {"expected_state": "support"},
    )

    ticket.refresh_from_db()
    assert (ticket.state, ticket.assignee) == (TicketState.IN_PROGRESS, agent)


def test_release_without_reason_is_refused_and_keeps_the_ticket(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, "release"]),
        {"expected_state": "in_progress", "reason": ""},
    )

    ticket.refresh_from_db()
    assert response.status_code == 400
    assert ticket.state == TicketState.IN_PROGRESS


def test_release_with_reason_returns_the_ticket_to_the_queue(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, "release"]),
        {"expected_state": "in_progress", "reason": "Urlaub"},
    )

    ticket.refresh_from_db()
    assert (ticket.state, ticket.assignee) == (TicketState.SUPPORT, None)


def test_team_lead_reassigns_a_ticket(
    client: Any, team_lead: Any, agent: Any, other_agent: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(team_lead)

    client.post(
        reverse("tickets:ticket_reassign", args=[ticket.pk]),
        {"expected_state": "in_progress", "assignee": other_agent.pk},
    )

    ticket.refresh_from_db()
    assert ticket.assignee == other_agent


def test_agent_cannot_reassign(client: Any, agent: Any, other_agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:ticket_reassign", args=[ticket.pk]),
        {"expected_state": "in_progress", "assignee": other_agent.pk},
    )

    ticket.refresh_from_db()
    assert response.status_code == 403
    assert ticket.assignee == agent


def test_cm_forging_an_agent_transition_is_refused_with_a_message(client: Any, cm: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)
    client.force_login(cm)

    response = client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, "take"]),
        {"expected_state": "support"},
    )

    ticket.refresh_from_db()
    assert response.status_code == 403
    assert b"Your role may not perform this action" in response.content
    assert ticket.state == TicketState.SUPPORT


def test_my_tickets_tab_shows_only_my_open_tickets(
    client: Any, agent: Any, other_agent: Any
) -> None:
    force_state(TicketFactory(preview="Meins"), TicketState.IN_PROGRESS, assignee=agent)
    force_state(TicketFactory(preview="Fremd"), TicketState.IN_PROGRESS, assignee=other_agent)
    client.force_login(agent)

    response = client.get(reverse("tickets:queue"), {"tab": "mine"})

    assert b"Meins" in response.content
    assert b"Fremd" not in response.content


def test_queue_shows_breached_tickets_first(client: Any, agent: Any) -> None:
    later = force_state(TicketFactory(preview="Spaeter"), TicketState.SUPPORT)
    late = force_state(TicketFactory(preview="Verletzt"), TicketState.SUPPORT)
    now = timezone.now()
    type(later).objects.filter(pk=later.pk).update(sla_due_at=now + timedelta(hours=1))
    type(late).objects.filter(pk=late.pk).update(sla_due_at=now - timedelta(minutes=1))
    client.force_login(agent)

    content = client.get(reverse("tickets:queue")).content

    assert content.index(b"Verletzt") < content.index(b"Spaeter")
    assert b"sla-breached" in content


def test_queue_needs_the_same_queries_for_5_and_50_tickets(
    client: Any, agent: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        force_state(TicketFactory(), TicketState.SUPPORT)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("tickets:queue"))
    for _ in range(45):
        force_state(TicketFactory(), TicketState.SUPPORT)

    with django_assert_max_num_queries(len(five)):
        response = client.get(reverse("tickets:queue"))

    assert response.status_code == 200


def test_queue_page_size_is_chosen_and_remembered(client: Any, agent: Any) -> None:
    for _ in range(30):
        force_state(TicketFactory(), TicketState.SUPPORT)
    client.force_login(agent)

    default = client.get(reverse("tickets:queue"), {"tab": "pickup"})
    chosen = client.get(reverse("tickets:queue"), {"tab": "pickup", "per_page": "50"})
    again = client.get(reverse("tickets:queue"), {"tab": "pickup", "page": "1"})
    refused = client.get(reverse("tickets:queue"), {"per_page": "abc"})

    assert len(default.context["tickets"]) == 25
    assert len(chosen.context["tickets"]) == 30
    assert len(again.context["tickets"]) == 30
    assert refused.status_code == 400
