"""Issue 18, point 1: every date and time a person or client sends is range-checked (years
2000 to 2100, servicedesk.timewindow). Outside the window the API answers 400 in the error
format of DESIGN §6, pages answer with a form error, never an OverflowError's 500.

One table over every endpoint and page that takes a date, with the values the pentest sent
(the edges of Python's date range, with the offsets that overflow them)."""

from typing import Any

import pytest
from django.test import Client

from servicedesk.tests.apiclient import assert_error, client_for
from tickets.choices import TicketState
from tickets.tests.factories import ChannelFactory, TicketFactory, UserFactory
from tickets.tests.helpers import force_state
from tickets.views.dashboard import TABLES

pytestmark = pytest.mark.django_db

FAR_FUTURE = {"from": "9999-12-30", "to": "9999-12-31"}
YEAR_ONE = {"to": "0001-01-01"}
WINDOW_MESSAGE = "Enter a date between 2000-01-01 and 2100-12-31."

# (who, kind, path, query or body, the field named in the error)
GET_API = [
    ("team_lead", "/api/v1/sla/summary/", FAR_FUTURE, "from"),
    ("team_lead", "/api/v1/sla/summary/", YEAR_ONE, "to"),
    ("cm", "/api/v1/mentions/", {"created_after": "0001-01-01T00:00:00+14:00"}, "created_after"),
    ("cm", "/api/v1/mentions/", {"created_before": "9999-12-31T23:59:59-14:00"}, "created_before"),
    ("cm", "/api/v1/mentions/", {"received_after": "0001-01-01T00:00:00Z"}, "received_after"),
    ("cm", "/api/v1/mentions/", {"received_before": "2101-01-01T00:00:00Z"}, "received_before"),
]
GET_PAGES = [
    ("team_lead", "/dashboard/", FAR_FUTURE),
    ("team_lead", "/dashboard/", YEAR_ONE),
    ("team_lead", "/dashboard/live/", FAR_FUTURE),
    ("team_lead", "/dashboard/live/", YEAR_ONE),
    *(("team_lead", f"/dashboard/export/{table}.csv", FAR_FUTURE) for table in TABLES),
    *(("team_lead", f"/dashboard/export/{table}.csv", YEAR_ONE) for table in TABLES),
    ("agent", "/search/", {"q": "Paket", "opened_from": "9999-12-31"}),
    ("agent", "/search/", {"q": "Paket", "opened_to": "0001-01-01"}),
    ("cm", "/inbox/poll/", {"since": "0001-01-01T00:00:00+14:00"}),
    ("cm", "/inbox/poll/", {"since": "9999-12-31T23:59:59-14:00"}),
]


@pytest.fixture
def people(cm: Any, agent: Any, team_lead: Any) -> dict[str, Any]:
    return {"cm": cm, "agent": agent, "team_lead": team_lead}


@pytest.mark.parametrize(("who", "path", "query", "field"), GET_API)
def test_api_query_dates_outside_the_window_answer_400_with_a_field_error(
    people: dict[str, Any], who: str, path: str, query: dict[str, str], field: str
) -> None:
    response = client_for(people[who]).get(path, query)

    body = assert_error(response, 400, "invalid")
    assert field in body["errors"], body


@pytest.mark.parametrize(("who", "path", "query"), GET_PAGES)
def test_pages_with_dates_outside_the_window_answer_400_with_the_form_error(
    people: dict[str, Any], who: str, path: str, query: dict[str, str]
) -> None:
    client = Client()
    client.force_login(people[who])

    response = client.get(path, query)

    assert response.status_code == 400
    assert WINDOW_MESSAGE in response.content.decode()


@pytest.mark.parametrize(
    "created_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z"]
)
def test_a_mention_created_before_the_window_is_refused(
    api_client_user: Any, channel: Any, created_at: str
) -> None:
    response = client_for(api_client_user).post(
        "/api/v1/mentions/",
        {
            "channel": channel.slug,
            "external_id": "old-1",
            "author": {"handle": "@erika"},
            "text": "Hallo",
            "created_at": created_at,
        },
        format="json",
    )

    body = assert_error(response, 400, "invalid")
    assert body["errors"]["created_at"] == [WINDOW_MESSAGE]


@pytest.fixture
def ticket_in_progress(agent: Any) -> Any:
    return force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)


@pytest.mark.parametrize("day", ["9999-12-31", "2101-01-01"])
def test_api_follow_up_date_outside_the_window_is_refused(
    agent: Any, ticket_in_progress: Any, day: str
) -> None:
    response = client_for(agent).post(
        f"/api/v1/tickets/{ticket_in_progress.pk}/transitions/",
        {"transition": "schedule_resubmission", "resubmission_on": day},
        format="json",
    )

    body = assert_error(response, 400, "invalid")
    assert body["errors"]["resubmission_on"] == [WINDOW_MESSAGE]
    ticket_in_progress.refresh_from_db()
    assert ticket_in_progress.state == TicketState.IN_PROGRESS


def test_ticket_page_follow_up_date_outside_the_window_is_a_form_error(
    client: Client, agent: Any, ticket_in_progress: Any
) -> None:
    client.force_login(agent)

    response = client.post(
        f"/tickets/{ticket_in_progress.pk}/transitions/schedule_resubmission/",
        {"expected_state": TicketState.IN_PROGRESS, "resubmission_on": "9999-12-31"},
    )

    assert response.status_code == 400
    assert WINDOW_MESSAGE in response.content.decode()
    ticket_in_progress.refresh_from_db()
    assert ticket_in_progress.state == TicketState.IN_PROGRESS


@pytest.mark.parametrize(
    "path",
    ["/admin/tickets/ticket/", "/admin/monitoring/mention/", "/admin/crm/customer/"],
)
@pytest.mark.parametrize("year", ["9999", "1", "abc"])
def test_admin_date_hierarchy_outside_the_window_reloads_the_list(
    client: Client, path: str, year: str
) -> None:
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    ChannelFactory(slug="web")
    field = {"/admin/tickets/ticket/": "opened_at", "/admin/monitoring/mention/": "received_at"}
    query = {
        f"{field.get(path, 'created_at')}__year": year,
        f"{field.get(path, 'created_at')}__month": "12",
    }

    response = client.get(path, query)

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
