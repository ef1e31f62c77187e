"""The story of the issue through the browser pages: tina opens a customer, exports their
data, requests erasure; a privacy officer confirms; the posts are gone from search and the
ticket page, the ticket stays."""

from typing import Any

import pytest
from django.test import Client

from privacy.actions.erasure import TOMBSTONE
from privacy.models import ErasureRequest
from privacy.tests.seed import MARKERS, seed_person

pytestmark = pytest.mark.django_db


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_tina_exports_requests_and_an_officer_confirms(
    agent: Any, team_lead: Any, privacy_officer: Any, department: Any, expert: Any
) -> None:
    seeded = seed_person(agent=agent, team_lead=team_lead, department=department, expert=expert)
    pk = seeded.customer.pk
    tina = _browser(team_lead)
    page = tina.get(f"/customers/{pk}/").content.decode()
    assert f"/privacy/customers/{pk}/" in page
    privacy_page = tina.get(f"/privacy/customers/{pk}/")
    assert privacy_page.status_code == 200 and b"What is stored" in privacy_page.content
    exported = tina.post(f"/privacy/customers/{pk}/export/", {"format": "json"})
    assert MARKERS["text"] in b"".join(exported.streaming_content).decode()
    tina.post(f"/privacy/customers/{pk}/erasure/", {"reason": "E-Mail vom 3.12."})
    erasure = ErasureRequest.objects.get()
    # tina may not confirm her own request.
    tina.post(f"/privacy/erasures/{erasure.pk}/confirm/")
    erasure.refresh_from_db()
    assert erasure.status == "requested"

    officer = _browser(privacy_officer)
    assert officer.get("/").url == "/privacy/"
    assert str(pk) in officer.get("/privacy/").content.decode()
    officer.post(f"/privacy/erasures/{erasure.pk}/confirm/")
    erasure.refresh_from_db()
    assert erasure.status == "done"

    found = _browser(agent).get("/search/", {"q": MARKERS["text"]}).content.decode()
    assert f"{MARKERS['text']} 0:" not in found and "No tickets" in found
    ticket_page = _browser(agent).get(f"/tickets/{seeded.tickets[0].pk}/")
    assert ticket_page.status_code == 200
    assert MARKERS["text"] not in ticket_page.content.decode()
    assert TOMBSTONE in ticket_page.content.decode()


def test_agents_and_experts_may_not_open_the_privacy_pages(
    agent: Any, cm: Any, expert: Any, team_lead: Any, department: Any
) -> None:
    seeded = seed_person(agent=agent, team_lead=team_lead, department=department, expert=expert)
    for person in (agent, cm, expert):
        browser = _browser(person)
        assert browser.get("/privacy/").status_code in (403, 404)
        answer = browser.post(f"/privacy/customers/{seeded.customer.pk}/export/")
        assert answer.status_code in (403, 404)
        browser.post(f"/privacy/customers/{seeded.customer.pk}/erasure/")
    assert not ErasureRequest.objects.exists()
