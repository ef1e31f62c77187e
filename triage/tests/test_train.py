"""Retraining on request: `POST /api/v1/triage/train/` (team leads and superusers only),
the team lead's `/triage/train/` form, and the model-versions partial of the quality page."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from servicedesk.tests.apiclient import assert_error, client_for
from tickets.tests.factories import UserFactory
from triage.actions import training
from triage.model_versions import model_versions_context
from triage.models import ModelVersion, TrainingRun
from triage.tests.test_learning import make_labelled

pytestmark = pytest.mark.django_db
URL = "/api/v1/triage/train/"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    training.forget_models()
    yield
    training.forget_models()


@pytest.mark.parametrize("persona", ["agent", "cm", "api_client_user", "expert"])
def test_only_team_leads_and_superusers_may_train(request: Any, persona: str) -> None:
    user = request.getfixturevalue(persona)
    assert_error(client_for(user).post(URL), 403)
    assert not TrainingRun.objects.exists()


def test_a_team_lead_retrains_and_gets_the_new_versions(team_lead: Any) -> None:
    make_labelled(60)
    response = client_for(team_lead).post(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["promoted"] == ["route"]
    route = body["versions"][0]
    assert (route["head"], route["version"], route["promoted"]) == ("route", 1, True)
    assert route["quality"] == 1.0 and route["rules_quality"] < 1.0
    assert body["examples"] == 60 and body["holdout"] == 12
    assert "tonality" in body["skipped"]


def test_a_superuser_hears_why_nothing_was_promoted() -> None:
    superuser = UserFactory(is_superuser=True, is_staff=True)
    make_labelled(10)
    response = client_for(superuser).post(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["versions"] == [] and body["promoted"] == []
    assert body["detail"].startswith(("Nothing promoted", "Nichts übernommen"))
    assert "route" in body["detail"]


def test_the_train_form_redirects_back_with_a_message(client: Any, team_lead: Any) -> None:
    make_labelled(60)
    client.force_login(team_lead)
    response = client.post(reverse("triage:train"), {"next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert ModelVersion.objects.filter(head="route", promoted=True).exists()
    [message] = list(get_messages(response.wsgi_request))
    assert "route" in str(message)


def test_the_train_form_is_post_only_and_for_team_leads(client: Any, agent: Any) -> None:
    client.force_login(agent)
    assert client.post(reverse("triage:train")).status_code == 403
    assert client.get(reverse("triage:train")).status_code == 405
    assert not TrainingRun.objects.exists()


def test_the_partial_shows_rules_or_model_per_head_and_the_curve(
    team_lead: Any, django_assert_max_num_queries: Any
) -> None:
    make_labelled(60)
    training.retrain(now=timezone.now(), trigger="manual")
    training.retrain(now=timezone.now(), trigger="manual")
    with django_assert_max_num_queries(2):
        context = model_versions_context()
    heads = {item["head"]: item for item in context["model_heads"]}
    assert heads["route"]["uses_model"] and heads["route"]["active"]["version"] == 1
    assert not heads["tonality"]["uses_model"]
    assert [row["version"] for row in heads["route"]["curve"]] == [1, 2]
    request = RequestFactory().get("/quality/")
    request.user = team_lead
    html = render_to_string("triage/partials/model_versions.html", context, request=request)
    assert 'action="/triage/train/"' in html and "csrfmiddlewaretoken" in html
    assert 'data-head="route"' in html and "v2" in html
