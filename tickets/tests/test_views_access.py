"""The browser workspace: sign-in, landing pages by role, and who may open which page."""

from typing import Any

import pytest
from django.urls import reverse

from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders_the_sign_in_form(client: Any) -> None:
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_person_signs_in_with_password_and_lands_on_home(client: Any, cm: Any) -> None:
    response = client.post(reverse("login"), {"username": "cm", "password": "pw-for-tests-1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_api_client_account_cannot_sign_in_to_the_browser(
    client: Any, api_client_user: Any
) -> None:
    response = client.post(
        reverse("login"), {"username": "api_client", "password": "pw-for-tests-1"}
    )

    assert response.status_code == 200
    assert b"API accounts cannot sign in" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("persona", "landing"),
    [("cm", "tickets:inbox"), ("agent", "tickets:queue")],
)
def test_each_role_lands_on_its_own_page(
    client: Any, request: Any, persona: str, landing: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("home"))

    assert response["Location"] == reverse(landing)


def test_anonymous_visitor_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(reverse("tickets:inbox"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("persona", "url_name"),
    [
        ("cm", "tickets:inbox"),
        ("team_lead", "tickets:inbox"),
        ("agent", "tickets:queue"),
        ("team_lead", "tickets:queue"),
        ("cm", "tickets:review_queue"),
        ("agent", "tickets:review_queue"),
        ("agent", "tickets:notifications"),
        ("expert", "tickets:notifications"),
        ("agent", "account"),
    ],
)
def test_page_renders_for_its_role(client: Any, request: Any, persona: str, url_name: str) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert b"<main" in response.content


@pytest.mark.parametrize(
    ("persona", "url_name"), [("agent", "tickets:inbox"), ("cm", "tickets:queue")]
)
def test_staff_of_another_role_gets_403_page(
    client: Any, request: Any, persona: str, url_name: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(url_name))

    assert response.status_code == 403


@pytest.mark.parametrize("url_name", ["tickets:inbox", "tickets:queue", "tickets:review_queue"])
def test_expert_gets_404_on_desk_pages(client: Any, expert: Any, url_name: str) -> None:
    client.force_login(expert)

    response = client.get(reverse(url_name))

    assert response.status_code == 404


def test_expert_gets_404_on_a_ticket_url(client: Any, expert: Any) -> None:
    ticket = TicketFactory()
    client.force_login(expert)

    response = client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))

    assert response.status_code == 404


def test_ticket_page_renders_for_agent(client: Any, agent: Any) -> None:
    ticket = TicketFactory()
    client.force_login(agent)

    response = client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))

    assert response.status_code == 200
    assert f"#{ticket.pk}".encode() in response.content


def test_navigation_shows_the_links_of_the_role(client: Any, cm: Any) -> None:
    client.force_login(cm)

    response = client.get(reverse("tickets:inbox"))

    nav = response.content.split(b'class="mainnav"')[1].split(b"</nav>")[0]
    assert reverse("tickets:inbox").encode() in nav
    assert reverse("tickets:review_queue").encode() in nav
    assert reverse("tickets:queue").encode() not in nav
