"""The guidelines page: read by the staff in their language, edited by team leads."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guidelines import actions
from guidelines.models import GuidelinePage

pytestmark = pytest.mark.django_db

PAGE = reverse("guidelines:page")
EDIT = reverse("guidelines:page_edit")


def test_staff_read_the_page_in_their_language(client: Client, cm: Any) -> None:
    client.force_login(cm)

    german = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="de")
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        english = client.get(PAGE)

    assert "Antworte innerhalb von 24 Stunden" in german.content.decode()
    assert "Answer within 24 hours" in english.content.decode()


def test_page_text_is_escaped_with_paragraphs(client: Client, agent: Any, team_lead: Any) -> None:
    actions.update_guideline_page("en", "Erstens <b>fett</b>\n\nZweitens", actor=team_lead)
    client.force_login(agent)

    html = client.get(PAGE).content.decode()

    assert "<p>Erstens &lt;b&gt;fett&lt;/b&gt;</p>" in html
    assert "<p>Zweitens</p>" in html


def test_team_lead_edits_the_page(client: Client, team_lead: Any) -> None:
    client.force_login(team_lead)

    response = client.post(EDIT, {"language": "en", "body": "New rules."})

    assert response.status_code == 302
    assert GuidelinePage.objects.get(language="en").body == "New rules."


def test_edit_form_is_prefilled_with_the_chosen_language(client: Client, team_lead: Any) -> None:
    client.force_login(team_lead)

    response = client.get(EDIT, {"language": "en"})

    assert response.context["form"].initial["body"].startswith("Social media guidelines")


def test_empty_text_is_refused_without_change(client: Client, team_lead: Any) -> None:
    client.force_login(team_lead)
    before = GuidelinePage.objects.get(language="de").body

    response = client.post(EDIT, {"language": "de", "body": ""})

    assert response.status_code == 400
    assert GuidelinePage.objects.get(language="de").body == before


def test_agents_may_read_but_not_edit(client: Client, agent: Any) -> None:
    client.force_login(agent)

    assert client.get(PAGE).status_code == 200
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, {"language": "de", "body": "Hack"}).status_code == 403
    assert GuidelinePage.objects.get(language="de").body != "Hack"


def test_experts_get_404(client: Client, expert: Any) -> None:
    client.force_login(expert)

    assert client.get(PAGE).status_code == 404
