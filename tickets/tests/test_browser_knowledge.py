"""The information centre in Debian's Chromium: on a ticket about a lost parcel the agent sees
the parcel article and a past answer offered next to the composer, inserts the article's
passage with one click (knowledge.js, no inline script), and sends the draft for approval
with the insertion attached."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from knowledge.models import ArticleUse
from tickets.choices import ReplyStatus, TicketState
from tickets.models import Reply
from tickets.tests.factories import DepartmentFactory
from tickets.tests.helpers import force_state
from tickets.tests.knowledge_data import resolved_case, ticket_with_mention, write_library

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_inserts_the_offered_article_into_the_draft_and_sends_it(
    live_server: Any, sign_in: Any, screenshot: Any, team_lead: Any, cm: Any, agent: Any,
    other_agent: Any,
) -> None:  # fmt: skip
    for slug in ("billing", "technical", "logistics", "sales", "product"):
        DepartmentFactory(slug=slug)
    library = write_library(team_lead)
    past = resolved_case(
        "Paket verschwunden, Sendungsverfolgung steht still",
        "Hallo Jana, zeigt die Sendungsverfolgung nichts, suchen wir dein Paket.",
        cm=cm, reviewer=other_agent,
    )  # fmt: skip
    ticket = ticket_with_mention(
        "@PaketBlitz Mein Paket ist verschwunden, die Sendungsverfolgung zeigt nichts mehr."
    )
    force_state(ticket, TicketState.IN_PROGRESS, assignee=agent)
    article = library["lost_parcel"]
    errors: list[str] = []

    page = sign_in(agent)
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.wait_for_selector(f"#suggestions-body [data-article='{article.pk}']")
    assert page.is_visible(f"#suggestions-body [data-answer='{past.pk}']")
    page.fill("#reply-text", "Hallo Erika,")
    page.click(f"[data-article='{article.pk}'] button[data-mode=quote]")
    expect(page.locator("#reply-text")).to_have_value(re.compile("Nachforschungsauftrag"))
    screenshot(page, "knowledge_01_composer_with_suggestions")
    page.click("#reply-submit")
    page.wait_for_load_state()

    reply = Reply.objects.get(ticket=ticket)
    use = ArticleUse.objects.get()
    assert reply.status == ReplyStatus.PENDING_REVIEW
    assert reply.text.startswith("Hallo Erika,")
    assert "Zeigt die Sendungsverfolgung seit drei Werktagen" in reply.text
    assert (use.article_id, use.reply_id) == (article.pk, reply.pk)
    assert errors == []
