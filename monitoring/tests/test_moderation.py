"""hide_mention and block_author: CMs and team leads only, where the platform can, audited,
and recorded only once the platform accepted."""

import pytest

from monitoring.models import Mention
from monitoring.tests.fakeplatform import FakeResponse
from servicedesk.errors import NotAllowedForRole
from tickets import actions
from tickets.choices import ReplyKind, ReplyStatus, TicketEventKind
from tickets.models import TicketEvent
from tickets.tests.factories import MentionFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status

pytestmark = pytest.mark.django_db


def _mention(channel, external_id="2001_3001", platform_user_id="4001"):
    ticket = TicketFactory(channel=channel, mention=False)
    return MentionFactory(
        ticket=ticket,
        channel=channel,
        customer=ticket.customer,
        external_id=external_id,
        author_platform_user_id=platform_user_id,
    )


def _moderation_events(mention):
    return TicketEvent.objects.filter(ticket=mention.ticket, kind=TicketEventKind.MODERATION)


def test_cm_hides_a_mention_on_the_platform_and_the_event_is_recorded(
    fake_platform, platform_channel, cm
):
    mention = _mention(platform_channel("facebook"))
    fake_platform.serve_payload("POST", "/2001_3001", "facebook/success")

    actions.hide_mention(mention, actor=cm)

    assert Mention.objects.get(pk=mention.pk).is_hidden is True
    assert fake_platform.requests_to("POST", "/2001_3001")[0].json() == {"is_hidden": True}
    event = _moderation_events(mention).get()
    assert (event.actor, event.data) == (cm, {"action": "hide", "mention": mention.pk})


def test_team_lead_may_hide_too(fake_platform, platform_channel, team_lead):
    mention = _mention(platform_channel("twitter"), external_id="1850000000000000002")
    fake_platform.serve_payload("PUT", "/2/tweets/1850000000000000002/hidden", "twitter/hidden")

    actions.hide_mention(mention, actor=team_lead)

    assert Mention.objects.get(pk=mention.pk).is_hidden is True


@pytest.mark.parametrize("persona", ["agent", "expert", "api_client_user"])
def test_other_roles_may_not_hide(fake_platform, platform_channel, persona, request):
    mention = _mention(platform_channel("facebook"))

    with pytest.raises(NotAllowedForRole):
        actions.hide_mention(mention, actor=request.getfixturevalue(persona))

    assert fake_platform.requests == []
    assert not _moderation_events(mention).exists()


def test_hiding_is_refused_where_the_platform_cannot_hide(fake_platform, platform_channel, cm):
    mention = _mention(platform_channel("mastodon"))

    with pytest.raises(actions.ModerationNotSupported):
        actions.hide_mention(mention, actor=cm)

    assert Mention.objects.get(pk=mention.pk).is_hidden is False


def test_a_refused_hide_marks_nothing(fake_platform, platform_channel, cm):
    mention = _mention(platform_channel("facebook"))
    fake_platform.serve("POST", "/2001_3001", FakeResponse(500, "down"))

    with pytest.raises(actions.ModerationFailed):
        actions.hide_mention(mention, actor=cm)

    assert Mention.objects.get(pk=mention.pk).is_hidden is False
    assert not _moderation_events(mention).exists()


def test_hiding_a_hidden_mention_calls_nobody(fake_platform, platform_channel, cm):
    mention = _mention(platform_channel("facebook"))
    fake_platform.serve_payload("POST", "/2001_3001", "facebook/success")
    actions.hide_mention(mention, actor=cm)

    actions.hide_mention(mention, actor=cm)

    assert len(fake_platform.requests) == 1
    assert _moderation_events(mention).count() == 1


def test_blocking_without_reminder_or_reason_is_refused(fake_platform, platform_channel, cm):
    mention = _mention(platform_channel("facebook"))

    with pytest.raises(actions.BlockNeedsReminder):
        actions.block_author(mention, actor=cm)

    assert fake_platform.requests == []


def test_blocking_with_a_written_reason_blocks_on_the_platform(fake_platform, platform_channel, cm):
    mention = _mention(platform_channel("facebook"))
    fake_platform.serve_payload("POST", "/1001/blocked", "facebook/success")

    actions.block_author(mention, actor=cm, reason="Wiederholte Beleidigungen")

    assert fake_platform.requests_to("POST", "/1001/blocked")[0].json() == {"user": "4001"}
    event = _moderation_events(mention).get()
    assert event.note == "Wiederholte Beleidigungen"
    assert event.data["action"] == "block"


def test_blocking_after_a_sent_netiquette_reminder_needs_no_reason(
    fake_platform, platform_channel, cm
):
    mention = _mention(platform_channel("facebook"))
    reminder = ReplyFactory(
        ticket=mention.ticket, in_reply_to_mention=mention, kind=ReplyKind.MODERATION
    )
    reminder = force_reply_status(reminder, ReplyStatus.SENT)
    fake_platform.serve_payload("POST", "/1001/blocked", "facebook/success")

    actions.block_author(mention, actor=cm)

    assert _moderation_events(mention).get().data["reminder_reply"] == reminder.pk


def test_a_reminder_not_yet_sent_does_not_count(fake_platform, platform_channel, cm):
    mention = _mention(platform_channel("facebook"))
    reminder = ReplyFactory(
        ticket=mention.ticket, in_reply_to_mention=mention, kind=ReplyKind.MODERATION
    )

    with pytest.raises(actions.BlockNeedsReminder):
        actions.block_author(mention, actor=cm, reminder_reply=reminder)

    assert fake_platform.requests == []


def test_a_reminder_to_another_customer_does_not_count(fake_platform, platform_channel, cm):
    channel = platform_channel("facebook")
    mention = _mention(channel)
    other = _mention(channel, external_id="2001_3099", platform_user_id="4099")
    reminder = force_reply_status(
        ReplyFactory(ticket=other.ticket, in_reply_to_mention=other, kind=ReplyKind.MODERATION),
        ReplyStatus.SENT,
    )

    with pytest.raises(actions.BlockNeedsReminder):
        actions.block_author(mention, actor=cm, reminder_reply=reminder)


def test_blocking_is_refused_where_the_platform_cannot_block(platform_channel, cm):
    mention = _mention(platform_channel("youtube"))

    with pytest.raises(actions.ModerationNotSupported):
        actions.block_author(mention, actor=cm, reason="spam")


def test_agents_may_not_block(platform_channel, agent):
    mention = _mention(platform_channel("facebook"))

    with pytest.raises(NotAllowedForRole):
        actions.block_author(mention, actor=agent, reason="spam")
