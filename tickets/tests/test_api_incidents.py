"""`/api/v1/incidents/` (issue 14, §5) end to end, and the mentions' `incident` field."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from servicedesk.tests.apiclient import assert_error, client_for
from tickets.actions import incidents
from tickets.choices import ReplyKind, StatementKind
from tickets.models import Incident, Reply
from tickets.tests.incident_data import demo_channel, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Any:
    return demo_channel()


LIST = "/api/v1/incidents/"


def detail(incident: Any) -> str:
    return f"{LIST}{incident.pk}/"


def test_list_and_detail_show_the_contract_fields_in_constant_queries(
    demo: Any,
    cm: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for index in range(6):
        mentions = post(demo, 3, start=10 * index)
        incidents.open_incident(
            actor=cm, title=f"Störung {index}", mention_ids=[m.pk for m in mentions]
        )
    client = client_for(cm)

    with django_assert_max_num_queries(6):
        response = client.get(LIST)

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 6
    first = results[0]
    incident = Incident.objects.get(pk=first["id"])
    assert first["title"] == "Störung 5" and first["state"] == "open"
    assert first["detected"] is False
    assert first["mentions"] == sorted(incident.members.values_list("mention_id", flat=True))
    assert len(first["tickets"]) == 3 and first["volume"]["members"] == 3
    assert client.get(detail(incident)).json()["statements"] == []


def test_without_credentials_401_and_for_an_expert_404(demo: Any, cm: Any, expert: Any) -> None:
    incident = incidents.open_incident(actor=cm, title="Störung")

    assert_error(APIClient().get(LIST), 401)
    assert_error(client_for(expert).get(detail(incident)), 404)
    assert client_for(expert).get(LIST).json()["results"] == []


def test_open_by_hand_write_approve_and_close_through_the_api(
    demo: Any,
    cm: Any,
    agent: Any,
) -> None:
    mentions = post(demo, 3)
    cm_client, agent_client = client_for(cm), client_for(agent)

    assert_error(agent_client.post(LIST, {"title": "x"}, format="json"), 403)
    assert_error(cm_client.post(LIST, {"title": ""}, format="json"), 400)
    created = cm_client.post(
        LIST, {"title": "Störung", "mentions": [m.pk for m in mentions[:2]]}, format="json"
    )
    assert created.status_code == 201, created.json()
    incident = Incident.objects.get(pk=created.json()["id"])
    added = cm_client.post(
        f"{detail(incident)}members/", {"mention": mentions[2].pk}, format="json"
    )
    assert added.json()["mentions"] == [m.pk for m in mentions]
    removed = cm_client.post(
        f"{detail(incident)}members/remove/", {"mention": mentions[2].pk}, format="json"
    )
    assert removed.json()["mentions"] == [m.pk for m in mentions[:2]]
    statement = cm_client.post(
        f"{detail(incident)}statements/",
        {"kind": StatementKind.HOLDING, "text": "Hallo {name}, wir arbeiten daran."},
        format="json",
    ).json()
    approve = f"{detail(incident)}statements/{statement['id']}/approve/"

    assert_error(cm_client.post(approve), 403)
    approved = agent_client.post(approve)
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["deliveries"] == {"queued": 2, "sent": 0}
    assert Reply.objects.filter(kind=ReplyKind.HOLDING).count() == 2
    assert_error(agent_client.post(approve), 409)
    closed = cm_client.post(f"{detail(incident)}close/", {"summary": "Behoben."}, format="json")
    assert closed.json()["state"] == "closed"
    assert_error(cm_client.post(f"{detail(incident)}close/", {"summary": "x"}, format="json"), 409)


def test_every_mention_carries_its_incident_in_constant_queries(
    demo: Any,
    cm: Any,
    django_assert_max_num_queries: Any,
) -> None:
    mentions = post(demo, 8)
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in mentions[:5]]
    )
    client = client_for(cm)

    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/mentions/", {"page_size": 50})

    by_id = {row["id"]: row["incident"] for row in response.json()["results"]}
    assert by_id == {m.pk: (incident.pk if m in mentions[:5] else None) for m in mentions}
    ticket = client.get(f"/api/v1/tickets/{mentions[0].ticket_id}/").json()
    assert [row["incident"] for row in ticket["mentions"]] == [incident.pk]
