"""`GET /api/v1/sla/summary/` (team leads and superusers) and the SLA policy API
(superusers), end to end through the URLs, on the hand-computed desk month."""

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from servicedesk.errors import NotAllowedForRole
from tickets import actions
from tickets.choices import SlaKind
from tickets.models import SlaPolicy
from tickets.tests.dashboard_data import (
    EXPECTED_COMPLIANCE,
    EXPECTED_FIRST_RESPONSE_TIMES,
    NOW,
    DeskMonth,
    at,
)
from tickets.tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/sla/summary/"
POLICIES = "/api/v1/sla/policies/"


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def superuser(db: Any) -> Any:
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def first_response_policy() -> SlaPolicy:
    return SlaPolicy.objects.get(kind=SlaKind.FIRST_RESPONSE, department__isnull=True)


# --------------------------------------------------------------------------- summary


def test_summary_gives_the_dashboards_hand_computed_figures(
    team_lead: Any, month: DeskMonth
) -> None:
    response = as_user(team_lead).get(SUMMARY)

    assert response.status_code == 200
    body = response.json()
    assert (body["date_from"], body["date_to"], body["channel"]) == (
        "2025-02-11",
        "2025-03-12",
        None,
    )
    compliance = {row["kind"]: row for row in body["compliance"]}
    for period, (met, breached, rate) in EXPECTED_COMPLIANCE[SlaKind.FIRST_RESPONSE].items():
        assert compliance["first_response"][period] == {
            "met": met,
            "breached": breached,
            "rate": rate,
        }
    assert body["counts"] == {"open": 5, "at_risk": 1, "breached": 2}
    times = {row["kind"]: row for row in body["response_times"]}["first_response"]
    for key, expected in EXPECTED_FIRST_RESPONSE_TIMES.items():
        assert times[key] == pytest.approx(expected), key


def test_summary_filters_by_range_and_channel(team_lead: Any, month: DeskMonth) -> None:
    response = as_user(team_lead).get(
        SUMMARY, {"from": "2025-03-12", "to": "2025-03-12", "channel": "beta"}
    )

    body = response.json()
    assert body["channel"] == "beta"
    assert body["counts"] == {"open": 2, "at_risk": 1, "breached": 1}
    first = {row["kind"]: row for row in body["compliance"]}["first_response"]
    assert first["range"] == {"met": 0, "breached": 1, "rate": 0.0}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-03-10", "to": "2025-03-01"}, "to"),
        ({"from": "gestern"}, "from"),
        ({"channel": "no-such-channel"}, "channel"),
        ({"from": "2020-01-01", "to": "2025-03-12"}, "from"),
    ],
)
def test_summary_refuses_invalid_filters_with_400(
    team_lead: Any, params: dict[str, str], field: str
) -> None:
    response = as_user(team_lead).get(SUMMARY, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"]


@pytest.mark.parametrize("persona", ["cm", "agent", "expert", "api_client_user"])
def test_summary_is_403_for_everyone_but_team_leads(persona: str, request: Any) -> None:
    response = as_user(request.getfixturevalue(persona)).get(SUMMARY)

    assert response.status_code == 403
    assert set(response.json()) == {"code", "detail", "errors"}


def test_summary_is_401_without_credentials() -> None:
    assert APIClient().get(SUMMARY).status_code == 401


def test_summary_is_open_to_superusers(superuser: Any) -> None:
    assert as_user(superuser).get(SUMMARY).status_code == 200


def test_summary_runs_a_constant_number_of_queries(
    team_lead: Any, month: DeskMonth, django_assert_max_num_queries: Any
) -> None:
    for minute in range(10):
        TicketFactory(opened_at=at(3, 11, 9, minute))
    client = as_user(team_lead)
    client.get(SUMMARY)  # the user's groups are read once per request

    with django_assert_max_num_queries(6):
        client.get(SUMMARY)


# --------------------------------------------------------------------------- policies


def test_superuser_lists_the_policies(superuser: Any, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(2):
        response = as_user(superuser).get(POLICIES)

    assert response.status_code == 200
    by_kind = {row["kind"]: row for row in response.json()}
    assert by_kind["first_response"]["target_seconds"] == 600
    assert by_kind["department_feedback"] == {
        "id": by_kind["department_feedback"]["id"],
        "kind": "department_feedback",
        "department": None,
        "target_seconds": 172800,
        "warn_percent": 80,
        "updated_at": by_kind["department_feedback"]["updated_at"],
    }


@pytest.mark.parametrize("persona", ["team_lead", "agent", "api_client_user"])
def test_policies_are_403_for_everyone_but_superusers(persona: str, request: Any) -> None:
    client = as_user(request.getfixturevalue(persona))
    policy = first_response_policy()

    assert client.get(POLICIES).status_code == 403
    response = client.patch(f"{POLICIES}{policy.pk}/", {"target_seconds": 1}, format="json")
    assert response.status_code == 403
    assert first_response_policy().target_seconds == 600


def test_superuser_changes_a_policy(superuser: Any) -> None:
    policy = first_response_policy()

    response = as_user(superuser).patch(
        f"{POLICIES}{policy.pk}/", {"target_seconds": 900, "warn_percent": 50}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["target_seconds"], response.json()["warn_percent"]) == (900, 50)
    policy.refresh_from_db()
    assert (policy.target_seconds, policy.warn_percent) == (900, 50)


def test_patch_of_one_field_keeps_the_other(superuser: Any) -> None:
    policy = first_response_policy()

    as_user(superuser).patch(f"{POLICIES}{policy.pk}/", {"warn_percent": 90}, format="json")

    policy.refresh_from_db()
    assert (policy.target_seconds, policy.warn_percent) == (600, 90)


def test_policy_change_applies_to_clocks_started_after_it(superuser: Any) -> None:
    # given a clock started under the 10-minute policy
    ticket = TicketFactory(opened_at=NOW)
    before = actions.start_clock(ticket, SlaKind.FIRST_RESPONSE, started_at=NOW)

    as_user(superuser).patch(
        f"{POLICIES}{first_response_policy().pk}/", {"target_seconds": 1200}, format="json"
    )
    after = actions.start_clock(ticket, SlaKind.FIRST_RESPONSE, started_at=NOW)

    before.refresh_from_db()
    assert (before.due_at - NOW).total_seconds() == 600
    assert (after.due_at - NOW).total_seconds() == 1200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_seconds": 0}, "target_seconds"),
        ({"target_seconds": -5}, "target_seconds"),
        ({"target_seconds": "soon"}, "target_seconds"),
        ({"warn_percent": 0}, "warn_percent"),
        ({"warn_percent": 101}, "warn_percent"),
        ({}, "non_field_errors"),
    ],
)
def test_invalid_policy_patch_is_400_and_changes_nothing(
    superuser: Any, body: dict[str, Any], field: str
) -> None:
    policy = first_response_policy()

    response = as_user(superuser).patch(f"{POLICIES}{policy.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    policy.refresh_from_db()
    assert (policy.target_seconds, policy.warn_percent) == (600, 80)


def test_patch_of_an_unknown_policy_is_404(superuser: Any) -> None:
    response = as_user(superuser).patch(f"{POLICIES}999999/", {"warn_percent": 50}, format="json")

    assert response.status_code == 404


def test_update_sla_policy_refuses_anyone_but_a_superuser(team_lead: Any) -> None:
    with pytest.raises(NotAllowedForRole):
        actions.update_sla_policy(
            first_response_policy(), actor=team_lead, target_seconds=60, warn_percent=50
        )

    assert first_response_policy().target_seconds == 600
