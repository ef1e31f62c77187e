"""The guideline checks (pure): every rule with a German and an English example that fires
and one that does not. No database, no clock."""

from dataclasses import replace

import pytest
from django.utils import translation

from guidelines.checks import (
    RULE_COMPLAINT,
    RULE_LENGTH,
    RULE_PERSONAL_ADDRESS,
    RULE_PERSONAL_DATA,
    RULE_TEMPLATE_UNCHANGED,
    RULE_WRONG_CHANNEL,
    STRONG,
    WARNING,
    ReplyContext,
    check_reply,
    is_valid_iban,
)

ORDER_NUMBER = ("Bestellnummer", r"PB\d{10}DE")
CUSTOMER_NUMBER = ("Kundennummer", r"Kundennummer\s*:?\s*\d{6,}")

GERMAN = ReplyContext(
    platform="twitter",
    visibility="public",
    language="de",
    customer_name="Erika Mustermann",
    customer_handle="@erika_m",
    mention_text="Wo bleibt mein Paket?",
    template_text=None,
    length_limit=280,
    personal_data_patterns=(ORDER_NUMBER, CUSTOMER_NUMBER),
)
ENGLISH = replace(
    GERMAN,
    language="en",
    customer_name="John Smith",
    customer_handle="jsmith",
    mention_text="Where is my parcel?",
)


def rules_of(text: str, context: ReplyContext) -> list[str]:
    return [finding.rule for finding in check_reply(text, context)]


# (rule, context, reply text, fires?)
CASES = [
    # length: over the platform's limit
    (RULE_LENGTH, GERMAN, "Hallo Erika, " + "x" * 300, True),
    (RULE_LENGTH, GERMAN, "Hallo Erika, das Paket kommt morgen.", False),
    (RULE_LENGTH, ENGLISH, "Hi John, " + "y" * 275, True),
    (RULE_LENGTH, ENGLISH, "Hi John, your parcel arrives tomorrow.", False),
    (RULE_LENGTH, replace(GERMAN, length_limit=None), "Hallo Erika, " + "x" * 9000, False),
    # personal address: first name or handle, any case, with or without @
    (RULE_PERSONAL_ADDRESS, GERMAN, "Vielen Dank für Ihre Nachricht, wir prüfen das.", True),
    (RULE_PERSONAL_ADDRESS, GERMAN, "Hallo erika, wir prüfen das.", False),
    (RULE_PERSONAL_ADDRESS, GERMAN, "@Erika_M wir prüfen das.", False),
    (RULE_PERSONAL_ADDRESS, GERMAN, "erika_m: wir prüfen das.", False),
    (RULE_PERSONAL_ADDRESS, ENGLISH, "Dear customer, we are looking into it.", True),
    (RULE_PERSONAL_ADDRESS, ENGLISH, "Hi John, we are looking into it.", False),
    (RULE_PERSONAL_ADDRESS, ENGLISH, "@JSmith we are looking into it.", False),
    # template sent unchanged (after whitespace normalisation)
    (
        RULE_TEMPLATE_UNCHANGED,
        replace(GERMAN, template_text="Hallo Erika,\n\nwir kümmern uns darum."),
        "Hallo Erika,  wir kümmern uns   darum.",
        True,
    ),
    (
        RULE_TEMPLATE_UNCHANGED,
        replace(GERMAN, template_text="Hallo Erika,\n\nwir kümmern uns darum."),
        "Hallo Erika, wir kümmern uns darum und melden uns morgen früh.",
        False,
    ),
    (
        RULE_TEMPLATE_UNCHANGED,
        replace(ENGLISH, template_text="Hi John, we're on it."),
        "Hi John,\nwe're on it.",
        True,
    ),
    (
        RULE_TEMPLATE_UNCHANGED,
        replace(ENGLISH, template_text="Hi John, we're on it."),
        "Hi John, we're on it: the courier has your parcel.",
        False,
    ),
    # personal data in a public reply: e-mail, phone, IBAN, configured patterns
    (RULE_PERSONAL_DATA, GERMAN, "Hallo Erika, schreib an erika.m@example.de", True),
    (RULE_PERSONAL_DATA, GERMAN, "Hallo Erika, ruf uns an: 0171 1234567", True),
    (RULE_PERSONAL_DATA, GERMAN, "Hallo Erika, Ihre Nummer +49 (0)30 123456 ist notiert", True),
    (RULE_PERSONAL_DATA, GERMAN, "Hallo Erika, IBAN DE89 3704 0044 0532 0130 00 erhalten", True),
    (RULE_PERSONAL_DATA, GERMAN, "Hallo Erika, Bestellung PB1234567890DE ist unterwegs", True),
    (RULE_PERSONAL_DATA, GERMAN, "Hallo Erika, Kundennummer: 4711081542 geprüft", True),
    (RULE_PERSONAL_DATA, GERMAN, "Hallo Erika, am 01.02.2025 um 09:30 kommt das Paket.", False),
    (RULE_PERSONAL_DATA, ENGLISH, "Hi John, mail john@example.com", True),
    (RULE_PERSONAL_DATA, ENGLISH, "Hi John, we called +44 20 7946 0958", True),
    (RULE_PERSONAL_DATA, ENGLISH, "Hi John, IBAN GB82 WEST 1234 5698 7654 32 noted", True),
    (
        RULE_PERSONAL_DATA,
        ENGLISH,
        "Hi John, the parcel costs 10 pounds and comes in 2 days.",
        False,
    ),
    (
        RULE_PERSONAL_DATA,
        replace(ENGLISH, visibility="private"),
        "Hi John, mail john@example.com, order PB1234567890DE",
        False,
    ),
    # a complaint answered without thanks or apology
    (
        RULE_COMPLAINT,
        replace(GERMAN, mention_text="Eine Frechheit, seit Wochen kein Paket!"),
        "Hallo Erika, das Paket kommt morgen.",
        True,
    ),
    (
        RULE_COMPLAINT,
        replace(GERMAN, mention_text="Eine Frechheit, seit Wochen kein Paket!"),
        "Hallo Erika, das tut uns leid! Das Paket kommt morgen.",
        False,
    ),
    (
        RULE_COMPLAINT,
        replace(GERMAN, mention_text="Wo bleibt mein Paket?"),
        "Hallo Erika, das Paket kommt morgen.",
        False,
    ),
    (
        RULE_COMPLAINT,
        replace(ENGLISH, mention_text="Really disappointed, my parcel is still not here."),
        "Hi John, the parcel arrives tomorrow.",
        True,
    ),
    (
        RULE_COMPLAINT,
        replace(ENGLISH, mention_text="Really disappointed, my parcel is still not here."),
        "Hi John, thanks for telling us. The parcel arrives tomorrow.",
        False,
    ),
    # a cancellation on a public channel: point to the right channel AND confirm handling
    (
        RULE_WRONG_CHANNEL,
        replace(GERMAN, mention_text="Ich will meinen Vertrag kündigen!"),
        "Hallo Erika, schade, dass Sie gehen möchten.",
        True,
    ),
    (
        RULE_WRONG_CHANNEL,
        replace(GERMAN, mention_text="Ich will meinen Vertrag kündigen!"),
        "Hallo Erika, schreib uns bitte eine DM.",
        True,
    ),
    (
        RULE_WRONG_CHANNEL,
        replace(GERMAN, mention_text="Ich will meinen Vertrag kündigen!"),
        "Hallo Erika, schreib uns bitte eine DM, wir kümmern uns darum.",
        False,
    ),
    (
        RULE_WRONG_CHANNEL,
        replace(GERMAN, mention_text="Ich will meinen Vertrag kündigen!", visibility="private"),
        "Hallo Erika, schade.",
        False,
    ),
    (
        RULE_WRONG_CHANNEL,
        replace(ENGLISH, mention_text="I want to cancel my subscription now"),
        "Hi John, we'll handle it.",
        True,
    ),
    (
        RULE_WRONG_CHANNEL,
        replace(ENGLISH, mention_text="I want to cancel my subscription now"),
        "Hi John, please use our contact form and we'll handle it right away.",
        False,
    ),
]


@pytest.mark.parametrize(
    ("rule", "context", "text", "fires"),
    CASES,
    ids=[f"{case[0]}-{case[1].language}-{index}" for index, case in enumerate(CASES)],
)
def test_rule_fires_exactly_on_its_examples(
    rule: str, context: ReplyContext, text: str, fires: bool
) -> None:
    assert (rule in rules_of(text, context)) is fires


def test_length_finding_says_by_how_much_the_limit_is_exceeded() -> None:
    text = "Hallo Erika, " + "x" * 280  # 293 characters

    with translation.override("en"):
        (finding,) = [f for f in check_reply(text, GERMAN) if f.rule == RULE_LENGTH]

    assert "13 characters too long" in finding.message
    assert finding.severity == WARNING


def test_personal_data_in_public_is_a_strong_warning_per_kind_found() -> None:
    text = "Hallo Erika, erika@example.de oder 0171 1234567, Bestellung PB1234567890DE"

    findings = [f for f in check_reply(text, GERMAN) if f.rule == RULE_PERSONAL_DATA]

    assert len(findings) == 3
    assert {finding.severity for finding in findings} == {STRONG}


def test_personal_address_finding_names_first_name_and_handle() -> None:
    with translation.override("en"):
        (finding,) = check_reply("Sehr geehrte Damen und Herren", GERMAN)

    assert finding.rule == RULE_PERSONAL_ADDRESS
    assert "Erika" in finding.message
    assert "@erika_m" in finding.message


def test_broken_configured_pattern_is_ignored() -> None:
    context = replace(GERMAN, personal_data_patterns=(("kaputt", r"(unclosed"),))

    assert rules_of("Hallo Erika, alles gut.", context) == []


def test_a_good_reply_has_no_findings() -> None:
    context = replace(GERMAN, mention_text="Frechheit! Ich will kündigen.")
    text = "Hallo Erika, danke für Ihre Nachricht. Schreib uns eine DM, wir kümmern uns."

    assert check_reply(text, context) == []


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("DE89 3704 0044 0532 0130 01", False),
        ("GB82WEST12345698765432", True),
        ("DE89", False),
    ],
)
def test_iban_checksum(iban: str, valid: bool) -> None:
    assert is_valid_iban(iban) is valid
