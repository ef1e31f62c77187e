"""Issue 17: in the inbox, Enter in the dismiss popover dismisses, the selection (the
keyboard row and the checked boxes) survives an action and the page reload after it, and
live rows arrive at their place in the SLA order."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tickets.choices import TicketState
from tickets.models import Ticket
from tickets.tests.factories import TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enter_in_the_dismiss_popover_dismisses_and_the_selection_survives(
    live_server: Any, sign_in: Any, screenshot: Any, cm: Any
) -> None:
    first, second, third = (TicketFactory() for _ in range(3))
    page = sign_in(cm)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/inbox/")
    rows = [page.locator(f"#ticket-row-{ticket.pk}") for ticket in (first, second, third)]
    expect(rows[2]).to_be_visible()
    # the inbox lists the three in SLA order, as they were created
    listed = page.locator("#inbox-body tr.row").all()
    order = [int(row.get_attribute("data-ticket") or 0) for row in listed]
    assert order == [first.pk, second.pk, third.pk]

    # given the first ticket checked for a bulk action and the second selected by keyboard
    rows[0].locator("input[type=checkbox]").check()
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(rows[1]).to_have_class("row is-selected")

    # when d opens the popover and Enter is pressed on its reason
    page.keyboard.press("d")
    reason = rows[1].locator("details[data-action=dismiss] select[name=dismiss_reason]")
    expect(reason).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    # then the ticket is dismissed, the next row is selected and the check mark is kept
    expect(page.locator(f"#ticket-row-{second.pk}")).to_have_count(0)
    assert Ticket.objects.get(pk=second.pk).state == TicketState.DISMISSED
    expect(page.locator(f"#ticket-row-{third.pk}")).to_have_class("row is-selected")
    expect(page.locator(f"#ticket-row-{first.pk} input[type=checkbox]")).to_be_checked()
    expect(page.locator("#bulk-count")).to_have_text("1")
    screenshot(page, "keyboard-01-after-dismiss")

    # and j/k carry on from the kept selection
    page.keyboard.press("k")
    expect(page.locator(f"#ticket-row-{first.pk}")).to_have_class("row is-selected")


def test_live_rows_arrive_at_their_sla_position(
    live_server: Any, sign_in: Any, screenshot: Any, cm: Any
) -> None:
    # given an inbox with deadlines in 10 and 60 minutes and one without a deadline
    now = timezone.now()
    soon = TicketFactory(sla_due_at=now + timedelta(minutes=10))
    later = TicketFactory(sla_due_at=now + timedelta(minutes=60))
    open_ended = TicketFactory(sla_due_at=None)
    page = sign_in(cm)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator(f"#ticket-row-{open_ended.pk}")).to_be_visible()

    # when tickets due in 30 and in 5 minutes arrive while the page is open
    middle = TicketFactory(sla_due_at=timezone.now() + timedelta(minutes=30))
    first = TicketFactory(sla_due_at=timezone.now() + timedelta(minutes=5))

    # then the live poll puts each at its place in the SLA order, not on top
    body = page.locator("#inbox-body tr.row")
    expect(body).to_have_count(5, timeout=15000)
    expected = [first, soon, middle, later, open_ended]
    for index, ticket in enumerate(expected):
        expect(body.nth(index)).to_have_attribute("data-ticket", str(ticket.pk))
    expect(page.locator(f"#ticket-row-{middle.pk}")).to_have_class("row is-new")
    screenshot(page, "keyboard-02-live-rows-in-sla-order")
