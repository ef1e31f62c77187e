"""Issue 17: deliveries that fail are seen before anyone writes, and never lock a case.

A channel that cannot send says so (health and composer), a reply in retry shows its next
attempt, a failed public reply on any channel can be posted by hand and then counts as sent,
and a direct message without the author's platform user id is refused when it is written.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from monitoring import actions as monitoring_actions
from monitoring.choices import Platform
from monitoring.health import send_health
from servicedesk.errors import InvalidArgument, InvalidTransition
from tickets import actions, outbox
from tickets.choices import ReplyKind, ReplyStatus, ReplyVisibility, TicketState
from tickets.models import Reply
from tickets.tests.factories import ChannelFactory, MentionFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status

pytestmark = pytest.mark.django_db


def _x_channel(**fields: Any) -> Any:
    defaults = {"slug": "x", "name": "ZugPlus auf X", "platform": Platform.TWITTER}
    defaults.update(credentials="token-1", config={"user_id": "1000"})
    defaults.update(fields)
    return ChannelFactory(**defaults)


def _ticket(channel: Any, **mention_fields: Any) -> Any:
    ticket = TicketFactory(channel=channel, mention=False)
    MentionFactory(ticket=ticket, channel=channel, customer=ticket.customer, **mention_fields)
    return ticket


def test_an_x_channel_without_credentials_cannot_send_and_says_why() -> None:
    channel = _x_channel(credentials="", config={})

    health = send_health(channel)

    assert not health.can_send
    assert health.problems == ("no credentials are stored", "the configuration lacks user_id")
    assert health.summary.startswith("This channel cannot send: no credentials are stored")


def test_a_hand_posted_channel_and_a_complete_one_can_send() -> None:
    assert send_health(ChannelFactory(slug="forum", platform=Platform.RSS)).can_send
    assert send_health(_x_channel()).can_send


def test_the_last_failed_delivery_marks_the_channel_until_one_succeeds_or_it_is_set_up_anew(
    team_lead: Any,
) -> None:
    team_lead.is_superuser = True
    channel = _x_channel()
    now = timezone.now()

    monitoring_actions.record_send_outcome(channel.pk, ok=False, error="X refused.", at=now)
    channel.refresh_from_db()
    assert send_health(channel).problems == ("its last delivery failed: X refused.",)

    monitoring_actions.record_send_outcome(channel.pk, ok=True, at=now + timedelta(seconds=1))
    channel.refresh_from_db()
    assert send_health(channel).can_send

    monitoring_actions.record_send_outcome(
        channel.pk, ok=False, error="X refused.", at=now + timedelta(seconds=2)
    )
    channel.refresh_from_db()
    assert not send_health(channel).can_send
    channel = monitoring_actions.change_channel_settings(channel, actor=team_lead, credentials="t2")
    assert send_health(channel).can_send


def test_the_composer_warns_before_anyone_writes(client: Any, cm: Any) -> None:
    ticket = _ticket(_x_channel(credentials=""))
    client.force_login(cm)

    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()

    assert 'id="send-health"' in page
    assert "This channel cannot send: no credentials are stored" in page


def test_the_composer_shows_no_warning_for_a_channel_that_can_send(client: Any, cm: Any) -> None:
    ticket = _ticket(_x_channel())
    client.force_login(cm)

    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()

    assert 'id="send-health"' not in page


def test_a_reply_in_retry_shows_its_next_attempt_on_the_ticket_and_the_review_page(
    client: Any, cm: Any, agent: Any
) -> None:
    ticket = _ticket(_x_channel())
    later = timezone.now() + timedelta(minutes=10)
    reply = force_reply_status(
        ReplyFactory(ticket=ticket, author=cm),
        ReplyStatus.APPROVED,
        attempts=2,
        last_error="X could not be reached (attempt 2).",
        next_attempt_at=later,
    )
    client.force_login(agent)

    ticket_page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    review_page = client.get(reverse("tickets:review_queue")).content.decode()

    for page in (ticket_page, review_page):
        assert f'data-reply-retry="{reply.pk}"' in page
        assert "Delivery attempt 2 failed:" in page
        assert "X could not be reached (attempt 2)." in page
        assert "Next attempt" in page


def test_a_failed_public_reply_on_x_is_posted_by_hand_and_counts_as_sent(cm: Any) -> None:
    ticket = _ticket(_x_channel())
    reply = force_reply_status(
        ReplyFactory(ticket=ticket, author=cm, kind=ReplyKind.ANSWER),
        ReplyStatus.FAILED,
        last_error="X refused the reply.",
    )

    reply = actions.confirm_reply_posted(
        reply, actor=cm, permalink="https://x.com/zugplus_hilft/status/18500"
    )

    assert (reply.status, reply.permalink) == (
        ReplyStatus.SENT,
        "https://x.com/zugplus_hilft/status/18500",
    )
    assert ticket.events.filter(data__step="sent", data__reply=reply.pk).exists()
    # The resolve guard (an answer was sent) is satisfied.
    ticket = actions.resolve_ticket(ticket, actor=cm)
    assert ticket.state == TicketState.RESOLVED


def test_an_approved_reply_on_a_posting_channel_is_not_confirmed_by_hand(cm: Any) -> None:
    ticket = _ticket(_x_channel())
    reply = force_reply_status(ReplyFactory(ticket=ticket, author=cm), ReplyStatus.APPROVED)

    with pytest.raises(InvalidTransition):
        actions.confirm_reply_posted(reply, actor=cm, permalink="https://x.com/a/status/1")


def test_a_direct_message_without_the_authors_user_id_is_refused_when_written(cm: Any) -> None:
    ticket = _ticket(_x_channel(), author_platform_user_id="")

    with pytest.raises(InvalidArgument) as refused:
        actions.create_reply(
            ticket,
            actor=cm,
            text="Hallo, schreib uns bitte per DM.",
            visibility=ReplyVisibility.PRIVATE,
            kind=ReplyKind.ANSWER,
        )

    assert refused.value.field == "visibility"
    assert "user id on X" in str(refused.value)
    assert not ticket.replies.exists()


def test_a_direct_message_with_the_authors_user_id_is_drafted(cm: Any) -> None:
    ticket = _ticket(_x_channel(), author_platform_user_id="4711")

    reply = actions.create_reply(
        ticket,
        actor=cm,
        text="Hallo, hier ist die Antwort.",
        visibility=ReplyVisibility.PRIVATE,
        kind=ReplyKind.ANSWER,
    )

    assert reply.status == ReplyStatus.DRAFT


def test_a_final_failure_is_told_once_per_reply_in_plain_german_even_after_a_retry(
    cm: Any, agent: Any, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "de"
    channel = ChannelFactory(slug="bridge", name="Brücke", platform=Platform.WEBHOOK)
    ticket = _ticket(channel)
    reply = force_reply_status(
        ReplyFactory(ticket=ticket, author=cm), ReplyStatus.APPROVED, next_attempt_at=timezone.now()
    )

    with translation.override("de"):
        assert outbox.deliver_reply(reply.pk, now=timezone.now()) == ReplyStatus.FAILED
        actions.retry_reply(Reply.objects.get(pk=reply.pk), actor=agent)
        assert outbox.deliver_reply(reply.pk, now=timezone.now()) == ReplyStatus.FAILED

    reply.refresh_from_db()
    assert reply.last_error.startswith("Brücke hat die Antwort abgelehnt: ")
    assert "Error" not in reply.last_error and "Unauthorized" not in reply.last_error
    texts = list(cm.notifications.filter(kind="reply_failed").values_list("text", flat=True))
    assert len(texts) == 1
    assert texts[0].startswith(f"Ihre Antwort auf Ticket #{ticket.pk} konnte nicht zugestellt")
    channel.refresh_from_db()
    with translation.override("de"):
        assert send_health(channel).summary.startswith("Dieser Kanal kann nicht senden: ")
        assert (
            send_health(channel)
            .problems[-1]
            .startswith(
                "die letzte Zustellung ist fehlgeschlagen: Brücke hat die Antwort abgelehnt"
            )
        )
