"""The privacy API and the access audit: permissions, the export's contents, the erasure's
four eyes through HTTP, and an audit entry for each kind of access."""

import json
from typing import Any

import pytest
from django.test import Client

from privacy.choices import AccessKind
from privacy.models import AccessLog, ErasureRequest
from privacy.tests.seed import MARKERS, seed_person
from servicedesk.tests.apiclient import assert_error, client_for

pytestmark = pytest.mark.django_db

EXPORT_SECTIONS = {
    "customer": 1,
    "identities": 2,
    "consents": 1,
    "customer_notes": 1,
    "mentions": 4,
    "mention_revisions": 2,
    "replies": 1,
    "own_posts": 1,
    "ticket_notes": 1,
    "department_requests": 1,
    "notifications": 1,
    "triage_suggestions": 1,
    "triage_labels": 2,
}


@pytest.fixture
def seeded(agent: Any, team_lead: Any, department: Any, expert: Any) -> Any:
    return seed_person(agent=agent, team_lead=team_lead, department=department, expert=expert)


def _streamed(response: Any) -> str:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content).decode()


def test_agents_cms_experts_and_api_clients_get_403(
    seeded: Any, agent: Any, cm: Any, expert: Any, api_client_user: Any, team_lead: Any
) -> None:
    erasure = client_for(team_lead).post(
        f"/api/v1/customers/{seeded.customer.pk}/erasure/", {}, format="json"
    )
    assert erasure.status_code == 201
    for person in (agent, cm, expert, api_client_user):
        client = client_for(person)
        pk = seeded.customer.pk
        assert_error(client.post(f"/api/v1/customers/{pk}/export/", {}, format="json"), 403)
        assert_error(client.post(f"/api/v1/customers/{pk}/erasure/", {}, format="json"), 403)
        assert_error(client.post(f"/api/v1/erasures/{erasure.json()['id']}/confirm/"), 403)
        assert_error(client.get("/api/v1/audit/"), 403)
    for person in (expert, api_client_user):
        assert_error(client_for(person).get("/api/v1/customers/"), 403)
    assert ErasureRequest.objects.get().status == "requested"


def test_the_export_holds_every_kind_of_row(seeded: Any, privacy_officer: Any) -> None:
    client = client_for(privacy_officer)
    response = client.post(f"/api/v1/customers/{seeded.customer.pk}/export/", {}, format="json")
    assert response["Content-Type"] == "application/json"
    document = json.loads(_streamed(response))
    for section, at_least in EXPORT_SECTIONS.items():
        assert len(document[section]) >= at_least, section
    assert len(document["tickets"]) == len(seeded.tickets)
    assert document["ticket_events"]
    text = json.dumps(document, ensure_ascii=False)
    for marker in MARKERS.values():
        assert marker in text, marker
    html = _streamed(
        client.post(
            f"/api/v1/customers/{seeded.customer.pk}/export/", {"format": "html"}, format="json"
        )
    )
    assert "<h2>Consent history</h2>" in html and MARKERS["edit"] in html
    assert "<script" not in html
    assert_error(
        client.post(
            f"/api/v1/customers/{seeded.customer.pk}/export/", {"format": "pdf"}, format="json"
        ),
        400,
    )


def test_erasure_through_the_api_needs_a_second_person(
    seeded: Any, team_lead: Any, privacy_officer: Any
) -> None:
    lead = client_for(team_lead)
    requested = lead.post(
        f"/api/v1/customers/{seeded.customer.pk}/erasure/", {"reason": "Art. 17"}, format="json"
    )
    assert requested.status_code == 201 and requested.json()["status"] == "requested"
    pk = requested.json()["id"]
    assert_error(lead.post(f"/api/v1/erasures/{pk}/confirm/"), 403, "self_confirmation")
    assert_error(
        lead.post(f"/api/v1/customers/{seeded.customer.pk}/erasure/", {}, format="json"), 409
    )
    done = client_for(privacy_officer).post(f"/api/v1/erasures/{pk}/confirm/")
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "done" and body["confirmed_by"] == "pia"
    assert body["counts"]["monitoring_mention"] == 4
    assert_error(client_for(privacy_officer).post(f"/api/v1/erasures/{pk}/confirm/"), 409)
    assert_error(client_for(privacy_officer).post("/api/v1/erasures/999999/confirm/"), 404)


def test_customers_api_filters(seeded: Any, agent: Any) -> None:
    client = client_for(agent)
    found = client.get("/api/v1/customers/", {"handle": "@" + MARKERS["handle_tw"]}).json()
    assert [c["id"] for c in found["results"]] == [seeded.customer.pk]
    found = client.get("/api/v1/customers/", {"platform": "mastodon", "q": "Markow"}).json()
    assert [c["id"] for c in found["results"]] == [seeded.customer.pk]
    one = client.get(f"/api/v1/customers/{seeded.customer.pk}/").json()
    assert {i["platform"] for i in one["identities"]} == {"twitter", "mastodon"}


def test_every_kind_of_access_is_audited(
    seeded: Any, agent: Any, team_lead: Any, privacy_officer: Any
) -> None:
    browser = Client()
    browser.force_login(agent)
    ticket = seeded.tickets[0]
    assert browser.get(f"/customers/{seeded.customer.pk}/").status_code == 200
    assert browser.get(f"/tickets/{ticket.pk}/").status_code == 200
    assert browser.get("/search/", {"q": MARKERS["handle_tw"]}).status_code == 200
    client_for(agent).get(f"/api/v1/customers/{seeded.customer.pk}/")
    _streamed(
        client_for(team_lead).post(
            f"/api/v1/customers/{seeded.customer.pk}/export/", {}, format="json"
        )
    )
    kinds = {
        (entry.kind, entry.user_id)
        for entry in AccessLog.objects.filter(customer_id=seeded.customer.pk)
    }
    assert kinds == {
        (AccessKind.CUSTOMER_PAGE, agent.pk),
        (AccessKind.TICKET_PAGE, agent.pk),
        (AccessKind.SEARCH, agent.pk),
        (AccessKind.API_CUSTOMER, agent.pk),
        (AccessKind.EXPORT, team_lead.pk),
    }
    # A refused page is no access.
    browser.get("/customers/999999/")
    assert not AccessLog.objects.filter(path="/customers/999999/").exists()

    officer = client_for(privacy_officer)
    per_customer = officer.get("/api/v1/audit/", {"customer": seeded.customer.pk}).json()
    assert per_customer["count"] == 5
    per_user = officer.get(
        "/api/v1/audit/", {"user": team_lead.pk, "from": "2000-01-01T00:00:00Z"}
    ).json()
    assert [row["kind"] for row in per_user["results"]] == ["export"]
    assert_error(officer.get("/api/v1/audit/", {"from": "1900-01-01T00:00:00Z"}), 400)
    assert_error(officer.get("/api/v1/audit/", {"customer": "x"}), 400)
