"""`POST /api/v1/mentions/{id}/triage/`: corrections as labels, its permissions and input."""

from typing import Any

import pytest

from servicedesk.tests.apiclient import assert_error, client_for
from tickets.tests.factories import DepartmentFactory, MentionFactory
from triage.models import Label

pytestmark = pytest.mark.django_db


def url(mention: Any) -> str:
    return f"/api/v1/mentions/{mention.pk}/triage/"


@pytest.fixture
def mention() -> Any:
    DepartmentFactory(slug="billing")
    return MentionFactory()


@pytest.mark.parametrize("persona", ["cm", "agent", "team_lead"])
def test_desk_staff_record_a_correction_as_labels(request: Any, persona: str, mention: Any) -> None:
    user = request.getfixturevalue(persona)
    body = {"route": "support", "department": "billing", "tonality": "negative"}
    response = client_for(user).post(url(mention), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["mention"] == mention.pk
    labels = {label.head: label for label in Label.objects.filter(mention=mention)}
    assert {head: label.value for head, label in labels.items()} == {
        "route": "support",
        "department": "billing",
        "tonality": "negative",
    }
    assert {label.source for label in labels.values()} == {"correction"}
    assert labels["route"].actor == user


def test_a_second_correction_replaces_the_first(cm: Any, mention: Any) -> None:
    api = client_for(cm)
    api.post(url(mention), {"relevant": True}, format="json")
    api.post(url(mention), {"relevant": False, "abusive": True}, format="json")
    values = dict(Label.objects.filter(mention=mention).values_list("head", "value"))
    assert values == {"relevant": "false", "abusive": "true"}


def test_an_api_client_gets_403_and_records_nothing(api_client_user: Any, mention: Any) -> None:
    response = client_for(api_client_user).post(url(mention), {"route": "cm"}, format="json")
    assert_error(response, 403)  # an api_client reads every mention, but never triages
    assert not Label.objects.exists()


def test_an_expert_gets_404_for_a_mention_not_shared_with_him(expert: Any, mention: Any) -> None:
    response = client_for(expert).post(url(mention), {"route": "cm"}, format="json")
    assert_error(response, 404)
    assert not Label.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"route": "maybe"}, {"relevant": "yes"}, {"department": "nowhere"}, {"tonality": 3}],
)
def test_bad_input_is_a_400_and_changes_nothing(cm: Any, mention: Any, body: Any) -> None:
    response = client_for(cm).post(url(mention), body, format="json")
    assert_error(response, 400)
    assert not Label.objects.exists()


def test_without_credentials_401(mention: Any) -> None:
    from rest_framework.test import APIClient

    response = APIClient().post(url(mention), {"route": "cm"}, format="json")
    assert response.status_code == 401
