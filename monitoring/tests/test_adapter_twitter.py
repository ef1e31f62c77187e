"""The X (Twitter API v2) adapter against a fake API serving documented payload shapes."""

import json

import pytest

from monitoring.adapters.base import OutgoingReply
from monitoring.adapters.twitter import TwitterAdapter
from monitoring.tests.conftest import TOKEN
from monitoring.tests.fakeplatform import FakeResponse

pytestmark = pytest.mark.django_db

MENTIONS = "/2/users/1000/mentions"
DMS = "/2/dm_events"


def _quiet_dms(fake_platform):
    fake_platform.serve_payload("GET", DMS, "twitter/dm_events_empty")


def test_first_poll_reads_all_mention_pages_with_expanded_authors(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("GET", MENTIONS, "twitter/mentions_page1", "twitter/mentions_page2")
    _quiet_dms(fake_platform)

    result = TwitterAdapter().fetch(channel, None)

    assert [(m.external_id, m.author.handle) for m in result.mentions] == [
        ("1850000000000000003", "ralle_k"),
        ("1850000000000000002", "maike_unterwegs"),
        ("1850000000000000001", "dev_ops_dana"),
    ]
    assert json.loads(result.next_cursor) == {"mentions": "1850000000000000003"}
    request = fake_platform.requests_to("GET", MENTIONS)[0]
    assert request.param("expansions") == "author_id"
    assert request.param("user.fields") == "username,name"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_pagination_sends_the_next_token_as_pagination_token(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("GET", MENTIONS, "twitter/mentions_page1", "twitter/mentions_page2")
    _quiet_dms(fake_platform)

    TwitterAdapter().fetch(channel, None)

    tokens = [r.param("pagination_token") for r in fake_platform.requests_to("GET", MENTIONS)]
    assert tokens == [None, "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"]


def test_incremental_poll_sends_since_id_and_threads_replies(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("GET", MENTIONS, "twitter/mentions_new")
    _quiet_dms(fake_platform)
    cursor = json.dumps({"mentions": "1850000000000000003"})

    result = TwitterAdapter().fetch(channel, cursor)

    assert fake_platform.requests_to("GET", MENTIONS)[0].param("since_id") == "1850000000000000003"
    assert [(m.external_id, m.in_reply_to) for m in result.mentions] == [
        ("1850000000000000010", "1850000000000000009")
    ]
    assert json.loads(result.next_cursor)["mentions"] == "1850000000000000010"


def test_keywords_are_searched_with_their_own_cursor(fake_platform, platform_channel):
    channel = platform_channel("twitter", keywords=["ZugPlus Pendlerabo"])
    fake_platform.serve_payload("GET", MENTIONS, "twitter/mentions_empty")
    fake_platform.serve_payload("GET", "/2/tweets/search/recent", "twitter/search_recent")
    _quiet_dms(fake_platform)

    result = TwitterAdapter().fetch(channel, json.dumps({"search": "1850000000000000004"}))

    search = fake_platform.requests_to("GET", "/2/tweets/search/recent")[0]
    assert search.param("query") == '"ZugPlus Pendlerabo" -is:retweet'
    assert search.param("since_id") == "1850000000000000004"
    assert [m.external_id for m in result.mentions] == ["1850000000000000005"]
    assert json.loads(result.next_cursor)["search"] == "1850000000000000005"


def test_direct_messages_are_private_and_own_messages_are_skipped(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("GET", MENTIONS, "twitter/mentions_empty")
    fake_platform.serve_payload("GET", DMS, "twitter/dm_events")

    result = TwitterAdapter().fetch(channel, None)

    assert [(m.external_id, m.is_private, m.author.platform_user_id) for m in result.mentions] == [
        ("1850000000000000101", True, "2002")
    ]
    assert json.loads(result.next_cursor) == {"dm": "1850000000000000101"}


def test_direct_messages_up_to_the_cursor_are_not_reported_again(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("GET", MENTIONS, "twitter/mentions_empty")
    fake_platform.serve_payload("GET", DMS, "twitter/dm_events")

    result = TwitterAdapter().fetch(channel, json.dumps({"dm": "1850000000000000101"}))

    assert result.mentions == []


def _reply(**fields):
    values = {
        "reply_id": 9,
        "ticket_id": 3,
        "text": "Hallo Maike, das Bistro ist heute leider geschlossen.",
        "visibility": "public",
        "in_reply_to": "1850000000000000002",
        "recipient_handle": "maike_unterwegs",
        "recipient_platform_user_id": "2001",
    }
    return OutgoingReply(**{**values, **fields})


def test_public_reply_posts_a_tweet_in_reply_to_the_mention(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("POST", "/2/tweets", "twitter/tweet_created")

    sent = TwitterAdapter().send_reply(channel, _reply())

    request = fake_platform.requests_to("POST", "/2/tweets")[0]
    assert request.json() == {
        "text": "Hallo Maike, das Bistro ist heute leider geschlossen.",
        "reply": {"in_reply_to_tweet_id": "1850000000000000002"},
    }
    assert "idempotency-key" not in request.headers
    assert sent.platform_id == "1850000000000000500"


def test_private_reply_is_a_direct_message_to_the_participant(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    path = "/2/dm_conversations/with/2001/messages"
    fake_platform.serve_payload("POST", path, "twitter/dm_sent")

    sent = TwitterAdapter().send_reply(channel, _reply(visibility="private"))

    assert fake_platform.requests_to("POST", path)[0].json() == {"text": _reply().text}
    assert sent.platform_id == "1850000000000000600"


def test_find_sent_reply_finds_the_own_tweet_answering_the_mention(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("GET", "/2/users/1000/tweets", "twitter/user_tweets")

    found = TwitterAdapter().find_sent_reply(channel, _reply())

    assert found is not None and found.platform_id == "1850000000000000500"


def test_find_sent_reply_finds_nothing_for_a_different_text(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("GET", "/2/users/1000/tweets", "twitter/user_tweets")

    assert TwitterAdapter().find_sent_reply(channel, _reply(text="Etwas anderes")) is None


def test_hide_puts_hidden_true(fake_platform, platform_channel):
    channel = platform_channel("twitter")
    fake_platform.serve_payload("PUT", "/2/tweets/1850000000000000002/hidden", "twitter/hidden")

    TwitterAdapter().hide(channel, "1850000000000000002")

    request = fake_platform.requests_to("PUT", "/2/tweets/1850000000000000002/hidden")[0]
    assert request.json() == {"hidden": True}


def test_a_timeout_after_posting_is_an_unknown_outcome(fake_platform, platform_channel):
    from monitoring.adapters.base import OutcomeUnknown

    channel = platform_channel("twitter", config={"timeout_seconds": 0.3})
    fake_platform.serve(
        "POST", "/2/tweets", FakeResponse(201, {"data": {"id": "1"}}, delay_seconds=1)
    )

    with pytest.raises(OutcomeUnknown):
        TwitterAdapter().send_reply(channel, _reply())
