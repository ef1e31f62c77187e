"""The Facebook Page and Instagram adapters (Graph API) against a fake Graph API."""

import json

import pytest

from monitoring.adapters.base import NotSupported, OutgoingReply, RawAuthor
from monitoring.adapters.facebook import FacebookAdapter
from monitoring.adapters.instagram import InstagramAdapter

pytestmark = pytest.mark.django_db

FEED = "/1001/feed"
CONVERSATIONS = "/1001/conversations"
MEDIA = "/17841400000000000/media"


def _reply(**fields):
    values = {
        "reply_id": 11,
        "ticket_id": 4,
        "text": "Hallo Gerhard, wir erstatten den Betrag.",
        "visibility": "public",
        "in_reply_to": "2001_3001",
        "recipient_handle": "Gerhard Vollmer",
        "recipient_platform_user_id": "4001",
    }
    return OutgoingReply(**{**values, **fields})


# ---------------------------------------------------------------- Facebook


def test_facebook_first_poll_reads_comments_of_every_feed_page_and_conversations(
    fake_platform, platform_channel
):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("GET", FEED, "facebook/feed_page1", "facebook/feed_page2")
    fake_platform.serve_payload("GET", CONVERSATIONS, "facebook/conversations")

    result = FacebookAdapter().fetch(channel, None)

    # the page's own comment and own message are not mentions
    assert [(m.external_id, m.in_reply_to, m.is_private) for m in result.mentions] == [
        ("2001_3001", "", False),
        ("2001_3003", "2001_3001", False),
        ("2000_3000", "", False),
        ("m_6002", "", True),
    ]
    assert result.mentions[0].author == RawAuthor("Gerhard Vollmer", "Gerhard Vollmer", "4001")
    assert json.loads(result.next_cursor) == {
        "since": "2026-11-09T08:07:00+00:00",
        "seen": ["2001_3003"],
    }


def test_facebook_pagination_sends_the_after_cursor(fake_platform, platform_channel):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("GET", FEED, "facebook/feed_page1", "facebook/feed_page2")
    fake_platform.serve_payload("GET", CONVERSATIONS, "facebook/conversations_empty")

    FacebookAdapter().fetch(channel, None)

    assert [r.param("after") for r in fake_platform.requests_to("GET", FEED)] == [None, "QVFIUkt4"]


def test_facebook_incremental_poll_reports_only_comments_after_the_cursor(
    fake_platform, platform_channel
):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("GET", FEED, "facebook/feed_new")
    fake_platform.serve_payload("GET", CONVERSATIONS, "facebook/conversations_empty")
    cursor = json.dumps({"since": "2026-11-09T08:07:00+00:00", "seen": ["2001_3003"]})

    result = FacebookAdapter().fetch(channel, cursor)

    assert [m.external_id for m in result.mentions] == ["2001_3004"]
    assert json.loads(result.next_cursor)["since"] == "2026-11-09T08:30:00+00:00"


def test_facebook_public_reply_comments_on_the_comment(fake_platform, platform_channel):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("POST", "/2001_3001/comments", "facebook/comment_created")

    sent = FacebookAdapter().send_reply(channel, _reply())

    request = fake_platform.requests_to("POST", "/2001_3001/comments")[0]
    assert request.json() == {"message": "Hallo Gerhard, wir erstatten den Betrag."}
    assert sent.platform_id == "2001_3010"


def test_facebook_private_reply_to_a_comment_is_a_private_reply(fake_platform, platform_channel):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("POST", "/1001/messages", "facebook/message_sent")

    FacebookAdapter().send_reply(channel, _reply(visibility="private"))

    body = fake_platform.requests_to("POST", "/1001/messages")[0].json()
    assert body["recipient"] == {"comment_id": "2001_3001"}
    assert body["message"] == {"text": "Hallo Gerhard, wir erstatten den Betrag."}


def test_facebook_private_reply_in_a_conversation_goes_to_the_person(
    fake_platform, platform_channel
):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("POST", "/1001/messages", "facebook/message_sent")

    sent = FacebookAdapter().send_reply(
        channel, _reply(visibility="private", in_reply_to="m_6002", is_private_conversation=True)
    )

    assert fake_platform.requests_to("POST", "/1001/messages")[0].json()["recipient"] == {
        "id": "4001"
    }
    assert sent.platform_id.startswith("m_")


def test_facebook_find_sent_reply_reads_the_pages_replies(fake_platform, platform_channel):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("GET", "/2001_3001/comments", "facebook/comment_replies")

    found = FacebookAdapter().find_sent_reply(channel, _reply())

    assert found is not None and found.platform_id == "2001_3010"


def test_facebook_hide_and_block(fake_platform, platform_channel):
    channel = platform_channel("facebook")
    fake_platform.serve_payload("POST", "/2001_3001", "facebook/success")
    fake_platform.serve_payload("POST", "/1001/blocked", "facebook/success")

    FacebookAdapter().hide(channel, "2001_3001")
    FacebookAdapter().block(channel, RawAuthor("Gerhard Vollmer", "", "4001"))

    assert fake_platform.requests_to("POST", "/2001_3001")[0].json() == {"is_hidden": True}
    assert fake_platform.requests_to("POST", "/1001/blocked")[0].json() == {"user": "4001"}


# ---------------------------------------------------------------- Instagram


def test_instagram_first_poll_reads_comments_and_replies_of_every_media_page(
    fake_platform, platform_channel
):
    channel = platform_channel("instagram")
    fake_platform.serve_payload("GET", MEDIA, "instagram/media_page1", "instagram/media_page2")

    result = InstagramAdapter().fetch(channel, None)

    assert [(m.external_id, m.author.handle, m.in_reply_to) for m in result.mentions] == [
        ("17850000000000001", "mama.von.drei", ""),
        ("17850000000000002", "sandra.shoppt", "17850000000000001"),
        ("17850000000000000", "foodie.fabian", ""),
    ]
    assert [r.param("after") for r in fake_platform.requests_to("GET", MEDIA)] == [None, "QVFI2"]


def test_instagram_incremental_poll_reports_only_new_comments(fake_platform, platform_channel):
    channel = platform_channel("instagram")
    fake_platform.serve_payload("GET", MEDIA, "instagram/media_new")
    cursor = json.dumps({"since": "2026-11-09T08:02:00+00:00", "seen": ["17850000000000002"]})

    result = InstagramAdapter().fetch(channel, cursor)

    assert [m.external_id for m in result.mentions] == ["17850000000000003"]


def test_instagram_reply_posts_to_the_comments_replies(fake_platform, platform_channel):
    channel = platform_channel("instagram")
    fake_platform.serve_payload("POST", "/17850000000000001/replies", "instagram/reply_created")

    sent = InstagramAdapter().send_reply(
        channel, _reply(in_reply_to="17850000000000001", text="Um 5:12 ab Hamburg.")
    )

    request = fake_platform.requests_to("POST", "/17850000000000001/replies")[0]
    assert request.json() == {"message": "Um 5:12 ab Hamburg."}
    assert sent.platform_id == "17850000000000099"


def test_instagram_hide_sets_hide_true(fake_platform, platform_channel):
    channel = platform_channel("instagram")
    fake_platform.serve_payload("POST", "/17850000000000001", "instagram/success")

    InstagramAdapter().hide(channel, "17850000000000001")

    assert fake_platform.requests_to("POST", "/17850000000000001")[0].param("hide") == "true"


@pytest.mark.parametrize(
    ("platform", "adapter", "key"),
    [("facebook", FacebookAdapter, "page_id"), ("instagram", InstagramAdapter, "ig_user_id")],
)
def test_a_channel_without_its_account_id_is_refused_before_any_request(
    fake_platform, platform_channel, platform, adapter, key
):
    channel = platform_channel(platform)
    channel.config = {name: value for name, value in channel.config.items() if name != key}

    with pytest.raises(NotSupported, match=key):
        adapter().fetch(channel, None)

    assert fake_platform.requests == []
