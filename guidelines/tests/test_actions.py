"""guidelines.actions: installing the default content, editing the guidelines page."""

from typing import Any

import pytest

from guidelines import actions
from guidelines.defaults import DEFAULT_GUIDELINES, DEFAULT_TEMPLATES
from guidelines.models import GuidelinePage, PersonalDataPattern, ReplyTemplate
from servicedesk.errors import InvalidArgument, NotAllowedForRole

pytestmark = pytest.mark.django_db


def test_defaults_exist_after_migrating_in_both_languages() -> None:
    keys = {key for key, _kind, _texts in DEFAULT_TEMPLATES}

    assert set(ReplyTemplate.objects.values_list("key", "language")) == {
        (key, language) for key in keys for language in ("de", "en")
    }
    assert set(GuidelinePage.objects.values_list("language", flat=True)) == {"de", "en"}
    assert PersonalDataPattern.objects.filter(is_active=True).count() == 2


def test_install_recreates_missing_rows_and_never_overwrites_edited_ones() -> None:
    ReplyTemplate.objects.filter(key="holding", language="en").delete()
    ReplyTemplate.objects.filter(key="holding", language="de").update(text="Eigener Text {name}")

    created = actions.install_default_templates()

    assert created == 1
    assert ReplyTemplate.objects.get(key="holding", language="de").text == "Eigener Text {name}"
    assert ReplyTemplate.objects.filter(key="holding", language="en").exists()


def test_install_twice_creates_nothing_the_second_time() -> None:
    actions.install_default_templates()

    assert actions.install_default_templates() == 0


def test_team_lead_updates_the_page_and_is_recorded(team_lead: Any) -> None:
    page = actions.update_guideline_page("en", "  Be kind.\n\nBe fast.  ", actor=team_lead)

    page.refresh_from_db()
    assert (page.body, page.updated_by_id) == ("Be kind.\n\nBe fast.", team_lead.pk)


@pytest.mark.parametrize("persona", ["cm", "agent", "expert"])
def test_only_team_leads_edit_the_page(persona: str, request: pytest.FixtureRequest) -> None:
    with pytest.raises(NotAllowedForRole):
        actions.update_guideline_page("de", "Neu", actor=request.getfixturevalue(persona))

    assert GuidelinePage.objects.get(language="de").body == DEFAULT_GUIDELINES["de"]


@pytest.mark.parametrize(("language", "body"), [("fr", "Texte"), ("de", "   ")])
def test_update_refuses_unknown_language_and_empty_text(
    team_lead: Any, language: str, body: str
) -> None:
    with pytest.raises(InvalidArgument):
        actions.update_guideline_page(language, body, actor=team_lead)

    assert GuidelinePage.objects.get(language="de").body == DEFAULT_GUIDELINES["de"]
