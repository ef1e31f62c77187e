"""Issue 17's story in Chromium at 1366×768 in German (the desk default), with screenshots
(artifacts/screenshots/, git-ignored): a channel that cannot send warns in the composer, a
failed public reply is posted by hand and confirmed, a netiquette reminder is followed by a
desk-side block (X cannot block), a Wiedervorlage is changed once, and an open ticket
updates live."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from monitoring.choices import Platform
from tickets import actions, outbox, sla
from tickets.choices import ReplyKind, ReplyStatus, TicketState
from tickets.models import Reply
from tickets.tests.factories import ChannelFactory, MentionFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status, force_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1366, "height": 768}


def _ticket(channel: Any, text: str) -> Any:
    ticket = TicketFactory(channel=channel, mention=False)
    MentionFactory(ticket=ticket, channel=channel, customer=ticket.customer, text=text)
    return ticket


def test_workspace_story_at_1366(
    live_server: Any, sign_in: Any, screenshot: Any, cm: Any, agent: Any
) -> None:
    url = live_server.url
    x = ChannelFactory(slug="x", name="ZugPlus auf X", platform=Platform.TWITTER)
    bridge = ChannelFactory(slug="bridge", name="Forum-Bridge", platform=Platform.WEBHOOK)

    # A channel that cannot send says so before anyone writes.
    rude = _ticket(x, "Euer Service ist 💩 und ihr seid alle unfähig!")
    page = sign_in(cm)
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{url}/tickets/{rude.pk}/")
    expect(page.locator("#send-health")).to_contain_text(
        "Dieser Kanal kann nicht senden: es sind keine Zugangsdaten hinterlegt"
    )
    expect(page.locator("#reply-kind option[value=moderation]")).to_have_count(1)
    screenshot(page, "ws-01-channel-cannot-send")

    # A failed public reply (the bridge has no callback URL) is posted by hand.
    asked = _ticket(bridge, "Fährt der RE7 morgen wieder?")
    reply = force_reply_status(
        ReplyFactory(ticket=asked, author=cm, kind=ReplyKind.ANSWER, text="Ja, ab 6 Uhr."),
        ReplyStatus.APPROVED,
        next_attempt_at=timezone.now(),
    )
    with translation.override("de"):  # as the worker, in the desk's language
        assert outbox.deliver_reply(reply.pk, now=timezone.now()) == ReplyStatus.FAILED
    page.goto(f"{url}/tickets/{asked.pk}/")
    expect(page.locator(f"#reply-{reply.pk} .reply-failed")).to_contain_text(
        "hat die Antwort abgelehnt"
    )
    screenshot(page, "ws-02-delivery-failed")
    page.fill(
        f"#reply-{reply.pk} .confirm-posted input[name=permalink]", "https://forum.example/t/1#p2"
    )
    page.click(f"#reply-{reply.pk} .confirm-posted button")
    page.wait_for_load_state()
    expect(page.locator(f"#reply-{reply.pk}")).to_have_attribute("data-reply-status", "sent")
    screenshot(page, "ws-03-posted-by-hand")

    # A netiquette reminder was sent; then the author is blocked on the desk (X cannot).
    mention = rude.mentions.get()
    force_reply_status(
        ReplyFactory(ticket=rude, in_reply_to_mention=mention, kind=ReplyKind.MODERATION),
        ReplyStatus.SENT,
    )
    page.goto(f"{url}/tickets/{rude.pk}/")
    expect(page.locator(".desk-block").first).to_contain_text("nicht sperren")
    page.click(".desk-block button")
    page.wait_for_load_state()
    expect(page.locator("#ticket-blocked")).to_be_visible()
    screenshot(page, "ws-04-blocked-on-the-desk")
    page.goto(f"{url}/inbox/?filter=blocked")
    expect(page.locator(f"#ticket-row-{rude.pk} .author-blocked")).to_be_visible()
    screenshot(page, "ws-05-inbox-blocked-filter")
    page.goto(f"{url}/inbox/")
    expect(page.locator(f"#ticket-row-{rude.pk}")).to_have_count(0)

    # A Wiedervorlage changed once by its assignee.
    follow = force_state(_ticket(bridge, "Erstattung?"), TicketState.IN_PROGRESS, assignee=agent)
    first_day = sla.desk_today(timezone.now()) + timedelta(days=3)
    actions.schedule_resubmission(follow, actor=agent, resubmission_on=first_day)
    agent_page = sign_in(agent)
    agent_page.set_viewport_size(VIEWPORT)
    agent_page.goto(f"{url}/tickets/{follow.pk}/")
    agent_page.click("details[data-transition=reschedule_resubmission] summary")
    new_day = first_day + timedelta(days=2)
    agent_page.fill(
        "form[data-transition=reschedule_resubmission] input[name=resubmission_on]",
        new_day.isoformat(),
    )
    agent_page.click("form[data-transition=reschedule_resubmission] button[type=submit]")
    agent_page.wait_for_load_state()
    expect(agent_page.locator("#ticket-follow-up time")).to_have_attribute(
        "datetime", new_day.isoformat()
    )
    expect(agent_page.locator("#timeline .event-follow-up").last).to_be_visible()
    screenshot(agent_page, "ws-06-follow-up-changed")

    # The open ticket updates live when a new mention arrives.
    MentionFactory(
        ticket=follow, channel=bridge, customer=follow.customer, text="Noch eine Frage 🚆"
    )
    expect(agent_page.locator("#conversation-thread .new-message")).to_have_count(1, timeout=15000)
    expect(agent_page.locator(".live-changes")).to_be_visible()
    screenshot(agent_page, "ws-07-live-update")
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.SENT
