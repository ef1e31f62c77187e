"""The `triage` object on mentions in the API (list, detail, inside a ticket) and the filters
`suggested_route`, `tonality`, `abusive` (issue 13 §6)."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.models import Mention
from servicedesk.tests.apiclient import client_for
from tickets.intake import receive_mentions
from tickets.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

KEYS = {
    "relevant",
    "route",
    "department",
    "needs_private_data",
    "tonality",
    "abusive",
    "fake_review",
    "language",
    "confidence",
    "reasons",
    "model",
}


def raw(external_id: str, text: str) -> RawMention:
    return RawMention(
        external_id=external_id,
        author=RawAuthor(handle=f"@user{external_id}", display_name="U", platform_user_id=""),
        text=text,
        created_at=timezone.now() - timedelta(seconds=20),
    )


@pytest.fixture
def stored() -> dict[str, int]:
    channel = ChannelFactory(slug="twitter")
    texts = {
        "parcel": "Mein Paket ist weg, Sendungsnummer PB12345678DE, bitte helfen",
        "question": "Wann fährt der erste Zug nach Hamburg?",
        "insult": "Ihr seid alle Idioten",
    }
    results = receive_mentions(
        channel, [raw(str(i), text) for i, text in enumerate(texts.values())], now=timezone.now()
    )
    return {name: result.mention_id for name, result in zip(texts, results, strict=True)}


def test_list_and_detail_carry_the_suggestion(cm: Any, stored: dict[str, int]) -> None:
    api = client_for(cm)
    listed = api.get("/api/v1/mentions/").json()["results"]
    assert {item["id"] for item in listed} == set(stored.values())
    for item in listed:
        assert set(item["triage"]) == KEYS
    one = api.get(f"/api/v1/mentions/{stored['parcel']}/").json()["triage"]
    assert (one["route"], one["department"], one["needs_private_data"]) == (
        "support",
        "logistics",
        True,
    )
    assert one["fake_review"] == {"suspect": False, "score": 0.0, "reasons": []}
    assert 0 <= one["confidence"]["route"] <= 1
    assert one["reasons"] and one["model"] == "rules-v1"
    question = api.get(f"/api/v1/mentions/{stored['question']}/").json()["triage"]
    assert question["department"] is None


def test_triage_is_null_while_it_is_being_computed(cm: Any, stored: dict[str, int]) -> None:
    Mention.objects.get(pk=stored["question"]).triage.delete()
    body = client_for(cm).get(f"/api/v1/mentions/{stored['question']}/").json()
    assert body["triage"] is None


def test_filters(cm: Any, stored: dict[str, int]) -> None:
    api = client_for(cm)

    def ids(query: str) -> set[int]:
        response = api.get(f"/api/v1/mentions/?{query}")
        assert response.status_code == 200, response.content[:300]
        return {item["id"] for item in response.json()["results"]}

    assert ids("suggested_route=support") == {stored["parcel"]}
    assert ids("suggested_route=cm") == {stored["question"]}
    assert ids("abusive=true") == {stored["insult"]}
    assert ids("abusive=false") == {stored["parcel"], stored["question"]}
    assert ids("tonality=negative") >= {stored["insult"]}
    assert api.get("/api/v1/mentions/?suggested_route=nonsense").status_code == 400
    assert api.get("/api/v1/mentions/?abusive=maybe").status_code == 400


def test_the_mentions_inside_a_ticket_carry_the_suggestion(cm: Any, stored: dict[str, int]) -> None:
    ticket_id = Mention.objects.get(pk=stored["parcel"]).ticket_id
    body = client_for(cm).get(f"/api/v1/tickets/{ticket_id}/").json()
    assert body["mentions"][0]["triage"]["route"] == "support"
