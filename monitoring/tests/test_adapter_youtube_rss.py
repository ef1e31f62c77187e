"""The YouTube and RSS/Atom adapters against a fake server."""

import json
from datetime import UTC, datetime

import pytest

from monitoring.adapters.base import NotSupported, OutgoingReply
from monitoring.adapters.rss import RssAdapter
from monitoring.adapters.youtube import YouTubeAdapter

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- YouTube


def test_youtube_first_poll_reads_threads_and_replies_of_every_page(
    fake_platform, platform_channel
):
    channel = platform_channel("youtube")
    fake_platform.serve_payload(
        "GET", "/commentThreads", "youtube/threads_page1", "youtube/threads_page2"
    )

    result = YouTubeAdapter().fetch(channel, None)

    assert [(m.external_id, m.in_reply_to) for m in result.mentions] == [
        ("UgxA1aaaaaaaaaaaaaaaa4AaABAg", ""),
        ("UgxA1aaaaaaaaaaaaaaaa4AaABAg.9zReply0001", "UgxA1aaaaaaaaaaaaaaaa4AaABAg"),
        ("UgxB0bbbbbbbbbbbbbbbb4AaABAg", ""),
    ]
    first = result.mentions[0]
    assert first.author.platform_user_id == "UCheimwerker0000000000001"
    assert first.created_at == datetime(2026, 11, 9, 8, 1, tzinfo=UTC)
    requests = fake_platform.requests_to("GET", "/commentThreads")
    assert requests[0].param("allThreadsRelatedToChannelId") == "UCzugplus000000000000001"
    assert [r.param("pageToken") for r in requests] == [None, "QURTSl9pMVNCeldJ"]


def test_youtube_incremental_poll_reports_only_comments_after_the_cursor(
    fake_platform, platform_channel
):
    channel = platform_channel("youtube")
    fake_platform.serve_payload("GET", "/commentThreads", "youtube/threads_new")
    cursor = json.dumps(
        {"since": "2026-11-09T08:03:00+00:00", "seen": ["UgxA1aaaaaaaaaaaaaaaa4AaABAg.9zReply0001"]}
    )

    result = YouTubeAdapter().fetch(channel, cursor)

    assert [m.external_id for m in result.mentions] == ["UgxC2cccccccccccccccc4AaABAg"]


def test_youtube_reply_inserts_a_comment_with_the_parent_id(fake_platform, platform_channel):
    channel = platform_channel("youtube")
    fake_platform.serve_payload("POST", "/comments", "youtube/comment_created")
    reply = OutgoingReply(
        reply_id=5,
        ticket_id=2,
        text="Hallo Hannes, ja, bis 2 m Länge.",
        visibility="public",
        in_reply_to="UgxA1aaaaaaaaaaaaaaaa4AaABAg",
        recipient_handle="@Heimwerker_Hannes",
    )

    sent = YouTubeAdapter().send_reply(channel, reply)

    request = fake_platform.requests_to("POST", "/comments")[0]
    assert request.param("part") == "snippet"
    assert request.json() == {
        "snippet": {
            "parentId": "UgxA1aaaaaaaaaaaaaaaa4AaABAg",
            "textOriginal": "Hallo Hannes, ja, bis 2 m Länge.",
        }
    }
    assert sent.platform_id == "UgxA1aaaaaaaaaaaaaaaa4AaABAg.9zReply0099"


def test_youtube_hide_rejects_the_comment(fake_platform, platform_channel):
    from monitoring.tests.fakeplatform import FakeResponse

    channel = platform_channel("youtube")
    fake_platform.serve("POST", "/comments/setModerationStatus", FakeResponse(204))

    YouTubeAdapter().hide(channel, "UgxA1aaaaaaaaaaaaaaaa4AaABAg")

    request = fake_platform.requests_to("POST", "/comments/setModerationStatus")[0]
    assert request.param("moderationStatus") == "rejected"
    assert request.param("id") == "UgxA1aaaaaaaaaaaaaaaa4AaABAg"


# ---------------------------------------------------------------- RSS / Atom


def test_rss_first_poll_reads_every_entry_with_guid_author_and_date(
    fake_platform, platform_channel
):
    channel = platform_channel("rss")
    fake_platform.serve_payload("GET", "/feed.xml", "rss/forum_feed")

    result = RssAdapter().fetch(channel, None)

    assert [(m.external_id, m.author.handle) for m in result.mentions] == [
        ("forum-post-1", "Bahnpendler_BS"),
        ("forum-post-2", "Zweirad_Zoe"),
    ]
    first = result.mentions[0]
    assert first.text == "Seit dem Fahrplanwechsel fällt der RE 3 morgens ständig aus."
    assert first.url == "https://forum.example/threads/re3.4390/#post-1"
    assert first.created_at == datetime(2026, 11, 9, 7, 10, tzinfo=UTC)


def test_rss_re_poll_with_the_cursor_reports_only_new_entries(fake_platform, platform_channel):
    channel = platform_channel("rss")
    fake_platform.serve_payload("GET", "/feed.xml", "rss/forum_feed", "rss/forum_feed_new")
    first = RssAdapter().fetch(channel, None)

    second = RssAdapter().fetch(channel, first.next_cursor)

    assert [m.external_id for m in second.mentions] == ["forum-post-3"]


def test_atom_entries_are_read_too(fake_platform, platform_channel):
    channel = platform_channel("rss")
    fake_platform.serve_payload("GET", "/feed.xml", "rss/blog_atom")

    result = RssAdapter().fetch(channel, None)

    assert [(m.external_id, m.author.handle, m.text) for m in result.mentions] == [
        (
            "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            "alltagsradler.de",
            "So klappt die Fahrradmitnahme bei ZugPlus.",
        )
    ]


def test_rss_channels_cannot_send_replies(platform_channel):
    channel = platform_channel("rss")

    assert RssAdapter.capabilities == frozenset({"fetch"})
    with pytest.raises(NotSupported):
        RssAdapter().send_reply(
            channel,
            OutgoingReply(
                reply_id=1,
                ticket_id=1,
                text="x",
                visibility="public",
                in_reply_to="forum-post-1",
                recipient_handle="a",
            ),
        )
