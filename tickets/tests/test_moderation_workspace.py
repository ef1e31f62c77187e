"""Issue 17: moderation as the netiquette says. The composer offers the netiquette reminder,
the block guard recognises a sent one, a platform that cannot block (X API v2) gets the
desk-side block, and a blocked author is visible everywhere: ticket, inbox row, customer
page (with the moderation history), and the inbox's "Blocked" filter instead of the inbox."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from crm.choices import BlockScope
from crm.models import SocialIdentity
from monitoring.choices import Platform
from tickets import actions
from tickets.choices import ReplyKind, ReplyStatus
from tickets.tests.factories import ChannelFactory, MentionFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status

pytestmark = pytest.mark.django_db


def _x_ticket() -> Any:
    channel = ChannelFactory(
        slug="x", platform=Platform.TWITTER, credentials="t", config={"user_id": "1"}
    )
    ticket = TicketFactory(channel=channel, mention=False)
    MentionFactory(ticket=ticket, channel=channel, customer=ticket.customer, text="Ihr seid …")
    return ticket


def _page(client: Any, name: str, *args: Any, query: str = "") -> str:
    return client.get(reverse(name, args=args) + query).content.decode()


def test_the_composer_offers_the_netiquette_reminder(client: Any, cm: Any) -> None:
    ticket = _x_ticket()
    client.force_login(cm)

    page = _page(client, "tickets:ticket_detail", ticket.pk)

    assert '<option value="moderation">Netiquette reminder</option>' in page


def test_the_netiquette_template_selects_the_moderation_kind(client: Any, cm: Any) -> None:
    from guidelines.models import ReplyTemplate

    template = ReplyTemplate.objects.filter(kind=ReplyKind.MODERATION).first()
    assert template is not None, "the default netiquette template is installed"
    ticket = _x_ticket()
    client.force_login(cm)

    fragment = client.get(
        reverse("tickets:reply_template", args=[ticket.pk]), {"template": template.pk}
    ).content.decode()

    assert 'data-template-kind="moderation"' in fragment


def test_x_offers_the_desk_side_block_and_says_it_cannot_block(client: Any, cm: Any) -> None:
    ticket = _x_ticket()
    client.force_login(cm)

    page = _page(client, "tickets:ticket_detail", ticket.pk)

    assert "This platform cannot block through its API" in page
    assert 'name="scope" value="desk"' in page


def test_a_sent_reminder_then_a_desk_block_marks_the_author_everywhere(
    client: Any, cm: Any
) -> None:
    ticket = _x_ticket()
    mention = ticket.mentions.get()
    reminder = force_reply_status(
        ReplyFactory(ticket=ticket, in_reply_to_mention=mention, kind=ReplyKind.MODERATION),
        ReplyStatus.SENT,
    )
    client.force_login(cm)

    response = client.post(
        reverse("tickets:ticket_moderate", args=[ticket.pk, "block"]),
        {"mention": mention.pk, "scope": "desk", "reason": ""},
    )

    assert response.status_code == 302
    identity = SocialIdentity.objects.get(pk=mention.identity_id)
    assert identity.blocked_at is not None and identity.block_scope == BlockScope.DESK
    event = ticket.events.get(kind="moderation")
    assert (event.data["scope"], event.data["reminder_reply"]) == ("desk", reminder.pk)

    ticket_page = _page(client, "tickets:ticket_detail", ticket.pk)
    assert 'id="ticket-blocked"' in ticket_page and "mention-blocked" in ticket_page
    assert "Blocked on the desk" in ticket_page

    inbox = _page(client, "tickets:inbox")
    blocked = _page(client, "tickets:inbox", query="?filter=blocked")
    assert f'id="ticket-row-{ticket.pk}"' not in inbox
    assert f'id="ticket-row-{ticket.pk}"' in blocked and "author-blocked" in blocked

    customer = _page(client, "tickets:customer_detail", ticket.customer_id)
    assert "identity-blocked" in customer
    assert "Author blocked" in customer and "Netiquette reminder" in customer


def test_a_new_post_of_a_blocked_author_is_stored_and_shown_in_the_blocked_filter(
    client: Any, cm: Any
) -> None:
    ticket = _x_ticket()
    mention = ticket.mentions.get()
    actions.block_author(mention, actor=cm, reason="Beleidigungen", desk_only=True)
    later = TicketFactory(channel=ticket.channel, customer=ticket.customer, mention=False)
    MentionFactory(
        ticket=later, channel=ticket.channel, customer=ticket.customer, identity=mention.identity
    )
    client.force_login(cm)

    assert f'id="ticket-row-{later.pk}"' not in _page(client, "tickets:inbox")
    assert f'id="ticket-row-{later.pk}"' in _page(client, "tickets:inbox", query="?filter=blocked")
    later.refresh_from_db()
    assert later.state == "new"  # never silently resolved
    poll = client.get(reverse("tickets:inbox_poll"), {"filter": "blocked"}).content.decode()
    assert f'id="ticket-row-{later.pk}"' in poll
    assert (
        f'id="ticket-row-{later.pk}"'
        not in client.get(reverse("tickets:inbox_poll")).content.decode()
    )


def test_the_block_guard_speaks_german(cm: Any, settings: Any) -> None:
    settings.LANGUAGE_CODE = "de"
    ticket = _x_ticket()

    with translation.override("de"), pytest.raises(actions.BlockNeedsReminder) as refused:
        actions.block_author(ticket.mentions.get(), actor=cm, desk_only=True)

    with translation.override("de"):
        assert str(refused.value.detail).startswith("Sperren setzt einen")
