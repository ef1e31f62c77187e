"""Team lead page "Triage-Qualität" (issue 13 §5): figures on a hand-made set of suggestions
and labels, the range, the roles, 400 for bad dates."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets.tests.factories import TicketFactory
from tickets.tests.test_triage_ui import suggest
from triage.models import Label

pytestmark = pytest.mark.django_db
IN_RANGE = timezone.make_aware(datetime(2026, 11, 10, 12, 0))


def _label(suggestion: Any, head: str, value: str, source: str = "assign", **kw: Any) -> None:
    Label.objects.create(
        mention_id=suggestion.mention_id,
        head=head,
        value=value,
        source=source,
        created_at=kw.get("at", IN_RANGE),
    )


@pytest.fixture
def labelled() -> None:
    """Route: suggested cm, cm, support, none; people said cm, support, support, cm.
    Tonality of the first is corrected (negative) over the workflow's (neutral)."""
    suggestions = []
    for route in ("cm", "cm", "support", "none"):
        suggestions.append(suggest(TicketFactory(), route=route, tonality="neutral"))
    for suggestion, truth in zip(suggestions, ("cm", "support", "support", "cm"), strict=True):
        _label(suggestion, "route", truth)
    _label(suggestions[0], "tonality", "neutral", source="answer")
    _label(suggestions[0], "tonality", "negative", source="correction")
    _label(suggestions[1], "tonality", "neutral", source="answer")
    # outside the range: not counted
    _label(suggestions[2], "tonality", "positive", at=IN_RANGE - timedelta(days=40))


def test_quality_per_head_on_a_hand_made_set(client: Any, team_lead: Any, labelled: None) -> None:
    client.force_login(team_lead)

    response = client.get(
        reverse("tickets:triage_quality"), {"date_from": "2026-11-01", "date_to": "2026-11-30"}
    )

    assert response.status_code == 200
    heads = {quality.head: quality for quality in response.context["heads"]}
    route = heads["route"]
    assert (route.count, route.correct) == (4, 2)
    assert route.accuracy == 0.5
    # classes cm, none, support; truth rows × suggested columns
    assert route.classes == ["cm", "none", "support"]
    assert route.matrix == [[1, 1, 0], [0, 0, 0], [1, 0, 1]]
    # F1: cm 2·1/(2+2)=0.5, none 0, support 2·1/(1+2)=2/3 → macro (0.5+0+0.667)/3
    assert route.macro_f1 == pytest.approx((0.5 + 0 + 2 / 3) / 3)
    tone = heads["tonality"]
    assert (tone.count, tone.correct) == (2, 1)  # the correction outweighs the answer
    assert tone.matrix == [[0, 1], [0, 1]]  # negative→neutral, neutral→neutral
    assert heads["abusive"].count == 0 and heads["abusive"].accuracy is None
    assert route.models == {"rules-v1": 4} and not route.uses_model
    html = response.content.decode()
    assert 'id="matrix-route"' in html and 'id="matrix-abusive"' not in html
    assert "0.500" in html and "rules" in html


def test_a_head_from_a_model_is_named(client: Any, team_lead: Any) -> None:
    suggestion = suggest(TicketFactory(), route="cm", model="tfidf-linear-3")
    _label(suggestion, "route", "cm", at=timezone.now())
    client.force_login(team_lead)

    response = client.get(reverse("tickets:triage_quality"))  # default: the last 30 days

    route = response.context["heads"][1]
    assert route.head == "route" and route.uses_model and route.accuracy == 1.0
    assert "tfidf-linear-3: 1" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-13-01", "date_to": "2026-11-30"},
        {"date_from": "1999-12-31", "date_to": "2026-11-30"},
        {"date_from": "2026-11-30", "date_to": "2026-11-01"},
        {"date_from": "2026-11-01"},
    ],
)
def test_bad_dates_answer_400(client: Any, team_lead: Any, params: dict) -> None:
    client.force_login(team_lead)

    response = client.get(reverse("tickets:triage_quality"), params)

    assert response.status_code == 400
    assert 'id="quality-errors"' in response.content.decode()


@pytest.mark.parametrize("persona", ["cm", "agent"])
def test_only_team_leads_see_the_page(client: Any, persona: str, request: Any) -> None:
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("tickets:triage_quality")).status_code == 403


def test_team_leads_find_it_in_the_navigation(client: Any, team_lead: Any) -> None:
    client.force_login(team_lead)

    html = client.get(reverse("tickets:dashboard")).content.decode()

    assert reverse("tickets:triage_quality") in html
