"""Issue 17: at 1366×768 the inbox, queue, review and dashboard tables fit the window (no
horizontal scrolling) and their action column is fully visible; the inbox shows two lines of
the post text and offers a page size. Measured with Playwright's bounding boxes (the CSP
refuses eval, so no page.evaluate)."""

from typing import Any

import pytest
from playwright.sync_api import expect

from monitoring.choices import Platform
from tickets.choices import ReplyStatus, TicketState
from tickets.tests.factories import ChannelFactory, MentionFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status, force_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1366
VIEWPORT = {"width": WIDTH, "height": 768}
LONG = (
    "Seit drei Wochen warte ich auf die Erstattung meines Tickets, der Zug fiel aus, der "
    "Ersatzverkehr kam nicht, niemand antwortet auf meine E-Mails und die Hotline legt auf. "
    "Bitte meldet euch endlich, ich brauche das Geld für die Miete!"
)


def _ticket(channel: Any, text: str = LONG, **extra: Any) -> Any:
    ticket = TicketFactory(channel=channel, mention=False, preview=text[:300])
    MentionFactory(
        ticket=ticket,
        channel=channel,
        customer=ticket.customer,
        text=text,
        author_display_name="Maximiliane Müller-Lüdenscheidt von Hohenzollern",
        **extra,
    )
    return ticket


def _right(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None, locator
    return box["x"] + box["width"]


def _fits(page: Any, table: str, last_cell: str) -> None:
    """The table ends inside the window and inside its card (no scroll bar), and every cell
    of its last column (the actions) ends inside the table."""
    tables = page.locator(table)
    assert tables.count() >= 1
    for index in range(tables.count()):
        element = tables.nth(index)
        card = element.locator("xpath=ancestor::*[contains(@class,'card')][1]")
        table_right = _right(element)
        assert table_right <= WIDTH, (table, index, table_right)
        assert table_right <= _right(card) + 0.5, (table, index, table_right, _right(card))
    cells = page.locator(last_cell)
    assert cells.count() >= 1, last_cell
    for index in range(cells.count()):
        cell = cells.nth(index)
        table_right = _right(cell.locator("xpath=ancestor::table[1]"))
        assert _right(cell) <= table_right + 0.5, (last_cell, index)
        assert _right(cell) <= WIDTH, (last_cell, index)


def test_tables_fit_1366_without_scrolling(
    live_server: Any, sign_in: Any, screenshot: Any, team_lead: Any, agent: Any
) -> None:
    url = live_server.url
    facebook = ChannelFactory(
        slug="fb", name="ZugPlus Fahrgastservice auf Facebook", platform=Platform.FACEBOOK
    )
    for _ in range(3):
        _ticket(facebook)
    support = force_state(_ticket(facebook), TicketState.SUPPORT)
    force_state(_ticket(facebook), TicketState.IN_PROGRESS, assignee=team_lead)
    force_reply_status(
        ReplyFactory(ticket=support, author=agent, text=LONG), ReplyStatus.PENDING_REVIEW
    )
    page = sign_in(team_lead)
    page.set_viewport_size(VIEWPORT)

    page.goto(f"{url}/inbox/")
    _fits(page, "table.inbox", "table.inbox tr.row td.col-actions .row-actions > :last-child")
    # two lines of the post text: more than one line, clamped below the full text
    link = page.locator("table.inbox tr.row .row-link").first.bounding_box()
    full = page.locator("table.inbox tr.row .preview").first.bounding_box()
    digits = page.locator("table.inbox tr.row .ticket-no").first.bounding_box()
    assert link is not None and full is not None and digits is not None
    assert 1.8 * digits["height"] <= link["height"] <= 3 * digits["height"], (link, digits)
    assert link["height"] < full["height"], (link, full)
    screenshot(page, "layout-01-inbox-1366")
    # the page size applies on change and is remembered
    page.select_option(".page-size select[name=per_page]", "50")
    page.wait_for_url("**per_page=50**")
    page.goto(f"{url}/inbox/")
    expect(page.locator(".page-size select[name=per_page]")).to_have_value("50")

    for tab in ("pickup", "mine"):
        page.goto(f"{url}/queue/?tab={tab}")
        _fits(page, "table.list", "table.list tr.row td.col-actions")
    page.goto(f"{url}/queue/?tab=pickup")
    screenshot(page, "layout-02-queue-1366")

    page.goto(f"{url}/review/")
    card = page.locator(".review-card").first
    expect(card).to_be_visible()
    assert _right(card) <= WIDTH
    assert _right(card.locator(".review-actions button").last) <= _right(card)
    screenshot(page, "layout-03-review-1366")

    page.goto(f"{url}/dashboard/")
    _fits(page, "table.dash-list", "table.dash-list tr > :last-child")
    screenshot(page, "layout-04-dashboard-1366")
