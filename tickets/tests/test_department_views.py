"""The department inbox and request page, and the confinement of experts to them."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from tickets import actions
from tickets.choices import DepartmentRequestStatus, TicketState
from tickets.models import DepartmentRequest
from tickets.tests.factories import MentionFactory, TicketFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db


def department_request(agent: Any, department: Any, *, question: str = "Ist das Modell X defekt?"):
    """A ticket in waiting_department with one shared and one unshared mention."""
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    shared = ticket.mentions.get()
    shared.text = "Mein Modell X ist kaputt, geteilt"
    shared.save(update_fields=["text"])
    MentionFactory(
        ticket=ticket, channel=ticket.channel, customer=ticket.customer, text="GEHEIM nicht geteilt"
    )
    actions.ask_department(
        ticket, actor=agent, department=department, question=question, shared_mentions=[shared]
    )
    return DepartmentRequest.objects.get(ticket=ticket)


@pytest.fixture
def expert_client(client: Client, expert: Any) -> Client:
    client.force_login(expert)
    return client


def test_inbox_lists_only_the_experts_departments_requests(
    expert_client: Client, agent: Any, department: Any, other_department: Any
) -> None:
    mine = department_request(agent, department)
    department_request(agent, other_department)

    response = expert_client.get(reverse("tickets:department_inbox"))

    assert response.status_code == 200
    assert [request.pk for request in response.context["open_requests"]] == [mine.pk]


def test_inbox_lists_open_requests_by_deadline_and_answered_below(
    expert_client: Client, expert: Any, agent: Any, department: Any
) -> None:
    with time_machine.travel(timezone.now() - timedelta(hours=47), tick=False):
        early = department_request(agent, department)
    late = department_request(agent, department)
    answered = department_request(agent, department)
    actions.answer_department_request(answered, actor=expert, answer="Ja.")

    response = expert_client.get(reverse("tickets:department_inbox"))

    assert [request.pk for request in response.context["open_requests"]] == [early.pk, late.pk]
    assert [request.pk for request in response.context["closed_requests"]] == [answered.pk]


def test_countdown_marks_at_risk_and_overdue_requests(
    expert_client: Client, agent: Any, department: Any
) -> None:
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=49), tick=False):
        overdue = department_request(agent, department)
    with time_machine.travel(now - timedelta(hours=40), tick=False):
        at_risk = department_request(agent, department)
    fresh = department_request(agent, department)

    with time_machine.travel(now, tick=False):
        response = expert_client.get(reverse("tickets:department_inbox"))

    rows = {request.pk: request for request in response.context["open_requests"]}
    assert (rows[overdue.pk].is_overdue, rows[overdue.pk].is_at_risk) == (True, False)
    assert (rows[at_risk.pk].is_overdue, rows[at_risk.pk].is_at_risk) == (False, True)
    assert (rows[fresh.pk].is_overdue, rows[fresh.pk].is_at_risk) == (False, False)
    html = response.content.decode()
    assert "row-breached" in html and "row-at-risk" in html


def test_request_page_shows_question_marker_and_only_shared_mentions(
    expert_client: Client, agent: Any, department: Any
) -> None:
    request = department_request(agent, department, question="Ist <b>Modell X</b> defekt?")

    response = expert_client.get(reverse("tickets:department_request_detail", args=[request.pk]))

    html = response.content.decode()
    assert "Ist &lt;b&gt;Modell X&lt;/b&gt; defekt?" in html
    assert 'class="ws2-badge ws2-badge-social"' in html  # the "from the social web" marker
    assert "Mein Modell X ist kaputt, geteilt" in html
    assert "GEHEIM" not in html
    assert reverse("tickets:ticket_detail", args=[request.ticket_id]) not in html


def test_expert_answers_and_the_ticket_returns_to_the_agent(
    expert_client: Client, expert: Any, agent: Any, department: Any
) -> None:
    request = department_request(agent, department)

    response = expert_client.post(
        reverse("tickets:department_request_detail", args=[request.pk]),
        {"answer": "Ja, Serienfehler. Austausch."},
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.answer, request.answered_by_id) == (
        DepartmentRequestStatus.ANSWERED,
        "Ja, Serienfehler. Austausch.",
        expert.pk,
    )
    assert request.ticket.state == TicketState.IN_PROGRESS


def test_blank_answer_is_refused_without_change(
    expert_client: Client, agent: Any, department: Any
) -> None:
    request = department_request(agent, department)

    response = expert_client.post(
        reverse("tickets:department_request_detail", args=[request.pk]), {"answer": "  "}
    )

    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == DepartmentRequestStatus.OPEN


def test_answering_twice_is_refused_with_a_conflict(
    expert_client: Client, expert: Any, agent: Any, department: Any
) -> None:
    request = department_request(agent, department)
    actions.answer_department_request(request, actor=expert, answer="Erste Antwort")

    response = expert_client.post(
        reverse("tickets:department_request_detail", args=[request.pk]), {"answer": "Zweite"}
    )

    assert response.status_code == 409
    request.refresh_from_db()
    assert request.answer == "Erste Antwort"


def test_other_expert_gets_404_for_the_request(
    client: Client, other_expert: Any, agent: Any, department: Any
) -> None:
    request = department_request(agent, department)
    client.force_login(other_expert)

    url = reverse("tickets:department_request_detail", args=[request.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"answer": "Ich bin nicht zuständig"}).status_code == 404
    request.refresh_from_db()
    assert request.status == DepartmentRequestStatus.OPEN


def expert_blocked_urls(ticket: Any, customer: Customer) -> list[str]:
    return [
        reverse("tickets:inbox"),
        reverse("tickets:queue"),
        reverse("tickets:ticket_detail", args=[ticket.pk]),
        reverse("tickets:ticket_add_note", args=[ticket.pk]),
        reverse("tickets:review_queue"),
        reverse("tickets:search") + "?q=Paket",
        reverse("tickets:customer_detail", args=[customer.pk]),
        reverse("tickets:guidelines"),
        "/admin/",
    ]


def test_experts_get_404_for_every_other_page_of_the_desk(
    expert_client: Client, agent: Any, department: Any
) -> None:
    request = department_request(agent, department)
    ticket = request.ticket

    statuses = {
        url: expert_client.get(url).status_code
        for url in expert_blocked_urls(ticket, ticket.customer)
    }

    assert statuses == dict.fromkeys(statuses, 404)


def test_experts_still_reach_their_own_pages(
    expert_client: Client, agent: Any, department: Any
) -> None:
    request = department_request(agent, department)

    allowed = [
        reverse("tickets:department_inbox"),
        reverse("tickets:department_request_detail", args=[request.pk]),
        reverse("tickets:notifications"),
        reverse("account"),
    ]

    assert {url: expert_client.get(url).status_code for url in allowed} == dict.fromkeys(
        allowed, 200
    )


def test_confinement_leaves_the_api_to_its_own_visibility(expert_client: Client) -> None:
    response = expert_client.get("/api/v1/notifications/")

    assert response.status_code == 200


def test_agents_are_not_confined(client: Client, agent: Any, department: Any) -> None:
    request = department_request(agent, department)
    client.force_login(agent)

    assert client.get(reverse("tickets:ticket_detail", args=[request.ticket_id])).status_code == 200
    assert client.get(reverse("tickets:department_inbox")).status_code == 200
