"""Issue 13 §4 in Chromium, in German: Clara sees the triage suggestion on every inbox row,
opens a row's reasons, corrects one head in one click and accepts a suggestion with the key
"v" (screenshots in artifacts/screenshots/)."""

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tickets.choices import TicketState
from tickets.models import Ticket
from tickets.tests.factories import MentionFactory, TicketFactory
from tickets.tests.test_triage_ui import suggest
from triage.models import Label

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ticket(text: str) -> Ticket:
    ticket = TicketFactory(mention=False, preview=text)
    MentionFactory(ticket=ticket, channel=ticket.channel, customer=ticket.customer, text=text)
    return ticket


def test_clara_triages_with_the_suggestions(
    live_server: Any, sign_in: Any, screenshot: Any, cm: Any
) -> None:
    support = _ticket("Meine Kundennummer ist 4711-0815, die Rechnung ist doppelt abgebucht!")
    suggest(
        support,
        route="support",
        department="billing",
        needs_private_data=True,
        tonality="negative",
        confidence={"route": 0.91, "tonality": 0.7},
        reasons=["Kundennummer öffentlich gepostet: 4711-0815", "Abteilungswort „Rechnung“"],
    )
    question = _ticket("Gibt es im ICE eigentlich WLAN?")
    suggest(question, route="cm", tonality="neutral", confidence={"route": 0.6})
    page = sign_in(cm)
    page.goto(live_server.url + reverse("tickets:inbox"))

    first = page.locator(f"#ticket-row-{support.pk}")
    second = page.locator(f"#ticket-row-{question.pk}")
    expect(first.locator(".triage-route")).to_contain_text("SoMe Support 91 %")
    expect(first.locator(".triage-department")).to_have_text("billing")
    expect(first.locator(".triage-tone")).to_have_text("negativ")
    expect(first.locator(".triage-private")).to_have_text("persönliche Daten")
    expect(second.locator(".triage-route")).to_contain_text("Community Manager 60 %")
    expect(first.locator(".triage-reason-list")).not_to_be_visible()
    screenshot(page, "triage-01-inbox-suggestions")

    first.locator(".triage-reasons summary").click()
    expect(first.locator(".triage-reason-list")).to_contain_text(
        "Kundennummer öffentlich gepostet: 4711-0815"
    )
    screenshot(page, "triage-02-reasons")

    # "Vorschlag korrigieren": the question was not neutral but negative — one click
    second.locator(".triage-correct summary").click()
    expect(second.locator(".triage-correct summary")).to_have_text("Vorschlag korrigieren")
    screenshot(page, "triage-03-correct")
    second.locator("form[data-head=tonality] button[value=negative]").click()
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("Vorschlag korrigiert")
    label = Label.objects.get(mention__ticket=question, head="tonality")
    assert (label.value, label.source, label.actor_id) == ("negative", "correction", cm.pk)

    # Accept the first row's suggestion (to Support) with one key
    page.keyboard.press("j")
    expect(page.locator(f"#ticket-row-{support.pk}.is-selected")).to_have_count(1)
    page.keyboard.press("v")
    expect(page.locator(f"#ticket-row-{support.pk}")).to_have_count(0)
    screenshot(page, "triage-04-accepted")
    support.refresh_from_db()
    assert support.state == TicketState.SUPPORT
    assert dict(
        Label.objects.filter(mention__ticket=support, source="assign").values_list("head", "value")
    ) == {"relevant": "true", "route": "support"}
