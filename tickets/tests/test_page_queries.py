"""The query count of each hot page, pinned: the CM inbox, every queue tab, the ticket page
and the review queue run the same number of queries for a short list (or history) and a
long one: no query per row. bench/pages.py measures the same pages at 1,000,000 tickets."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets import actions
from tickets.choices import TicketState
from tickets.models import Ticket
from tickets.tests.factories import MentionFactory, TicketFactory, UserFactory
from tickets.tests.helpers import force_state
from tickets.views.queue import QUEUE_PAGE_SIZE, TABS

pytestmark = pytest.mark.django_db

# One fewer than before issue 20's per-process lookups: the user's groups are cached.
INBOX_QUERIES = 10
QUEUE_QUERIES = 13
TICKET_PAGE_QUERIES = 30
REVIEW_QUEUE_QUERIES = 11


def _open_tickets(count: int, agent: Any) -> None:
    """`count` tickets in each queue tab (the agent's own: in progress, with a follow-up
    due, and both waiting states)."""
    for _number in range(count):
        force_state(TicketFactory(), TicketState.SUPPORT)
        mine = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
        Ticket.objects.filter(pk=mine.pk).update(follow_up_due_at=timezone.now())
        force_state(TicketFactory(), TicketState.WAITING_CUSTOMER, assignee=agent)
        force_state(TicketFactory(), TicketState.WAITING_DEPARTMENT, assignee=agent)


@pytest.mark.parametrize("count", [2, 20])
def test_inbox_queries_are_pinned(
    client: Any, cm: Any, count: int, django_assert_num_queries: Any
) -> None:
    TicketFactory.create_batch(count)
    client.force_login(cm)
    client.get(reverse("tickets:inbox"))  # session and language settle on the first request

    with django_assert_num_queries(INBOX_QUERIES):
        response = client.get(reverse("tickets:inbox"))

    assert response.status_code == 200
    assert len(response.context["tickets"]) == count


@pytest.mark.parametrize("tab", [key for key, _label in TABS])
@pytest.mark.parametrize("count", [2, 10])
def test_queue_tab_queries_are_pinned(
    client: Any, agent: Any, tab: str, count: int, django_assert_num_queries: Any
) -> None:
    _open_tickets(count, agent)
    client.force_login(agent)
    url = f"{reverse('tickets:queue')}?tab={tab}"
    client.get(url)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(url)

    listed = 3 * count if tab == "mine" else count  # mine: in progress and both waiting
    assert response.status_code == 200
    assert len(response.context["tickets"]) == min(listed, QUEUE_PAGE_SIZE)


def _ticket_with_history(agent: Any, size: int) -> Any:
    """A ticket of `agent` with `size` mentions, replies, notes and events."""
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    colleague = UserFactory(groups=["support_agent"])
    for number in range(size - 1):
        MentionFactory(ticket=ticket, channel=ticket.channel, customer=ticket.customer)
        author = agent if number % 2 else colleague
        actions.create_reply(
            ticket, actor=author, text=f"Antwort {number}", visibility="private", kind="answer"
        )
        actions.add_note(ticket, actor=author, text=f"Notiz {number}")
    return ticket


@pytest.mark.parametrize("size", [1, 8])
def test_ticket_page_queries_are_pinned(
    client: Any, agent: Any, size: int, django_assert_num_queries: Any
) -> None:
    ticket = _ticket_with_history(agent, size)
    client.force_login(agent)
    url = reverse("tickets:ticket_detail", args=[ticket.pk])
    client.get(url)

    with django_assert_num_queries(TICKET_PAGE_QUERIES):
        response = client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize("count", [2, 20])
def test_review_queue_queries_are_pinned(
    client: Any, agent: Any, other_agent: Any, count: int, django_assert_num_queries: Any
) -> None:
    for number in range(count):
        ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
        actions.create_reply(
            ticket, actor=agent, text=f"Hallo {number}", visibility="public", kind="answer",
            submit=True,
        )  # fmt: skip
    client.force_login(other_agent)
    client.get(reverse("tickets:review_queue"))

    with django_assert_num_queries(REVIEW_QUEUE_QUERIES):
        response = client.get(reverse("tickets:review_queue"))

    assert response.status_code == 200
    assert len(response.context["replies"]) == count


def test_tab_counts_stop_at_the_cap(client: Any, agent: Any, monkeypatch: Any) -> None:
    for module in ("servicedesk.web", "servicedesk.templatetags.desk", "tickets.views.queue"):
        monkeypatch.setattr(f"{module}.LIST_COUNT_CAP", 3)
    for _number in range(5):
        force_state(TicketFactory(), TicketState.SUPPORT)
    client.force_login(agent)

    response = client.get(f"{reverse('tickets:queue')}?tab=pickup&per_page=25")

    pickup = next(item for item in response.context["tabs"] if item["key"] == "pickup")
    assert pickup["count"] == 4  # counted as far as one past the cap
    assert response.context["page"].paginator.count == 3
    assert b'<span class="count-badge">3+</span>' in response.content
