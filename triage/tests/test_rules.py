"""The cold-start rules: every head with its reasons, on hand-written German and English
examples (the default rule set of triage/defaults.py, read from the database)."""

from typing import Any

import pytest

from triage.actions import load_rulebook
from triage.rules import suggest

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> Any:
    return load_rulebook()


def test_support_case_with_personal_data_in_public_german(book: Any) -> None:
    result = suggest(
        "@PaketBlitz Mein Paket ist seit einer Woche weg, Sendungsnummer PB12345678DE. Wo ist es?",
        book,
    )
    assert result["relevant"] is True
    assert result["route"] == "support"
    assert result["department"] == "logistics"
    assert result["needs_private_data"] is True
    assert result["language"] == "de"
    assert any("Sendungsnummer" in reason for reason in result["reasons"])
    assert any("department logistics" in reason for reason in result["reasons"])
    assert result["model"] == "rules-v1"
    assert set(result["confidence"]) >= {"relevant", "route", "tonality", "abusive"}


def test_iban_and_billing_keyword_route_to_billing(book: Any) -> None:
    result = suggest(
        "Telvia hat mir zweimal abgebucht!! Meine IBAN DE89 3704 0044 0532 0130 00, "
        "bitte erstatten",
        book,
    )
    assert (result["route"], result["department"]) == ("support", "billing")
    assert any("IBAN" in reason for reason in result["reasons"])


def test_public_question_goes_to_the_cm_and_is_neutral(book: Any) -> None:
    result = suggest("Wann fährt morgen der erste ZugPlus nach Hamburg?", book)
    assert (result["relevant"], result["route"], result["department"]) == (True, "cm", "")
    assert result["needs_private_data"] is False
    assert result["tonality"] == "neutral"
    assert any(reason.startswith("request") for reason in result["reasons"])


def test_english_complaint_is_negative_and_relevant(book: Any) -> None:
    result = suggest("@Telvia my connection is not working again, still waiting for help", book)
    assert result["language"] == "en"
    assert result["relevant"] is True
    assert result["tonality"] == "negative"
    assert result["route"] == "support"  # "connection" is a technical keyword
    assert result["department"] == "technical"


def test_praise_alone_is_not_relevant_but_gets_an_engagement_reply(book: Any) -> None:
    result = suggest("Thanks @Lindenhaus, what a great stay! ❤️", book)
    assert (result["relevant"], result["route"], result["tonality"]) == (False, "cm", "positive")
    assert any("praise" in reason for reason in result["reasons"])


def test_pure_insult_is_abusive_and_needs_no_reply(book: Any) -> None:
    result = suggest("Ihr seid doch alle Idioten", book)
    assert result["abusive"] is True
    assert (result["relevant"], result["route"], result["tonality"]) == (False, "none", "negative")
    assert any("insult" in reason for reason in result["reasons"])


def test_abusive_post_with_a_real_issue_stays_relevant(book: Any) -> None:
    result = suggest("Ihr Idioten, mein Internet geht nicht seit drei Tagen!", book)
    assert result["abusive"] is True
    assert result["relevant"] is True
    assert result["route"] == "support"


def test_ads_are_not_relevant(book: Any) -> None:
    result = suggest("Gewinnspiel! Mit meinem Rabattcode gibt es 20 % #werbung", book)
    assert (result["relevant"], result["route"]) == (False, "none")
    assert any("not relevant" in reason for reason in result["reasons"])


def test_own_post_is_never_relevant(book: Any) -> None:
    result = suggest("Wir helfen gern! Schreib uns bitte eine DM.", book, is_own_account=True)
    assert (result["relevant"], result["route"]) == (False, "none")
    assert "the brand's own post" in result["reasons"]


def test_reward_review_and_near_duplicate_are_fake_suspects(book: Any) -> None:
    reward = suggest(
        "Bestes Hotel ever!!! Gutschein für diese Bewertung bekommen", book, is_review=True
    )
    assert reward["fake_review"]["suspect"] is True
    assert reward["fake_review"]["score"] > 0.4
    assert (reward["relevant"], reward["route"]) == (False, "none")
    duplicate = suggest(
        "Ein normales Hotel, Zimmer sauber.", book, is_review=True, near_duplicate=True
    )
    assert duplicate["fake_review"]["suspect"] is True
    assert "near-duplicate" in duplicate["fake_review"]["reasons"][0]
    genuine = suggest(
        "Zimmer 304: die Klimaanlage ist defekt, bitte reparieren", book, is_review=True
    )
    assert genuine["fake_review"]["suspect"] is False


def test_a_disabled_rule_no_longer_matches() -> None:
    from triage.models import Rule

    Rule.objects.filter(kind="insult", pattern="idioten").update(is_active=False)
    result = suggest("Ihr seid doch alle Idioten", load_rulebook())
    assert result["abusive"] is False
