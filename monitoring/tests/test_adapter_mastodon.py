"""The Mastodon adapter against a fake instance serving documented payload shapes."""

from datetime import UTC, datetime

import pytest

from monitoring.adapters.base import OutgoingReply, RawAuthor
from monitoring.adapters.mastodon import MAX_PAGES, PAGE_SIZE, MastodonAdapter
from monitoring.tests.conftest import TOKEN
from monitoring.tests.fakeplatform import FakeResponse, RecordedRequest

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/v1/notifications"


def test_first_poll_reads_every_page_of_mentions_and_keeps_the_newest_id(
    fake_platform, platform_channel
):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload(
        "GET",
        NOTIFICATIONS,
        "mastodon/notifications_page1",
        "mastodon/notifications_page2",
        "mastodon/notifications_empty",
    )

    result = MastodonAdapter().fetch(channel, None)

    assert [m.external_id for m in result.mentions] == [
        "111300000000000003",
        "111300000000000002",
        "111300000000000001",
    ]
    assert result.next_cursor == "5003"
    first = fake_platform.requests_to("GET", NOTIFICATIONS)[0]
    assert first.query["types[]"] == ["mention"]
    assert first.param("since_id") is None
    assert first.headers["authorization"] == f"Bearer {TOKEN}"


def test_private_mention_is_a_direct_status_and_html_becomes_text(fake_platform, platform_channel):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload(
        "GET", NOTIFICATIONS, "mastodon/notifications_page1", "mastodon/notifications_empty"
    )

    result = MastodonAdapter().fetch(channel, None)

    direct = next(m for m in result.mentions if m.external_id == "111300000000000003")
    assert direct.is_private is True
    assert direct.author == RawAuthor("kai", "Kai", "71003")
    assert direct.text == "@zugplus_hilft meine Kundennummer ist 4711, bitte um Rückruf"
    assert direct.created_at == datetime(2026, 11, 9, 9, 3, tzinfo=UTC)


def test_pagination_follows_the_link_headers_max_id(fake_platform, platform_channel):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload(
        "GET",
        NOTIFICATIONS,
        "mastodon/notifications_page1",
        "mastodon/notifications_page2",
        "mastodon/notifications_empty",
    )

    MastodonAdapter().fetch(channel, None)

    requests = fake_platform.requests_to("GET", NOTIFICATIONS)
    assert [r.param("max_id") for r in requests] == [None, "5002", "5001"]


def test_incremental_poll_asks_from_the_cursor_and_advances_it(fake_platform, platform_channel):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload(
        "GET", NOTIFICATIONS, "mastodon/notifications_new", "mastodon/notifications_empty"
    )

    result = MastodonAdapter().fetch(channel, "5003")

    assert [m.external_id for m in result.mentions] == ["111300000000000004"]
    assert result.mentions[0].in_reply_to == "111300000000000099"
    assert result.next_cursor == "5004"
    assert {r.param("min_id") for r in fake_platform.requests} == {"5003"}


def test_a_backlog_longer_than_one_poll_is_read_over_several_polls_without_a_gap(
    fake_platform, platform_channel
):
    channel = platform_channel("mastodon")
    backlog = MAX_PAGES * PAGE_SIZE + 15  # more than one poll reads

    def notifications(request: RecordedRequest) -> FakeResponse:
        # Mastodon's min_id: the page just above it, newest first within the page.
        above = int(request.param("min_id") or 0)
        ids = list(range(above + 1, min(above + PAGE_SIZE, backlog) + 1))
        body = [
            {
                "id": str(number),
                "type": "mention",
                "status": {
                    "id": f"9{number:05d}",
                    "account": {"id": "71001", "acct": "kai"},
                    "content": f"<p>mention {number}</p>",
                    "created_at": "2026-11-09T09:00:00Z",
                    "visibility": "public",
                },
            }
            for number in reversed(ids)
        ]
        return FakeResponse(200, body)

    fake_platform.serve("GET", NOTIFICATIONS, notifications)

    first = MastodonAdapter().fetch(channel, "0")
    second = MastodonAdapter().fetch(channel, first.next_cursor)

    read = [m.external_id for m in first.mentions + second.mentions]
    assert read == [f"9{number:05d}" for number in range(1, backlog + 1)]
    assert second.next_cursor == str(backlog)


def test_poll_without_news_keeps_the_cursor(fake_platform, platform_channel):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload("GET", NOTIFICATIONS, "mastodon/notifications_empty")

    result = MastodonAdapter().fetch(channel, "5003")

    assert (result.mentions, result.next_cursor) == ([], "5003")


def test_private_reply_is_a_direct_status_with_the_reply_id_as_idempotency_key(
    fake_platform, platform_channel
):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload("POST", "/api/v1/statuses", "mastodon/status_created")
    reply = OutgoingReply(
        reply_id=42,
        ticket_id=7,
        text="Hallo Kai, wir rufen dich an.",
        visibility="private",
        in_reply_to="111300000000000003",
        recipient_handle="kai",
    )

    sent = MastodonAdapter().send_reply(channel, reply)

    request = fake_platform.requests_to("POST", "/api/v1/statuses")[0]
    assert request.headers["idempotency-key"] == "42"
    assert request.json() == {
        "status": "@kai Hallo Kai, wir rufen dich an.",
        "in_reply_to_id": "111300000000000003",
        "visibility": "direct",
    }
    assert sent.platform_id == "111300000000000777"


def test_public_reply_keeps_a_mention_already_in_the_text(fake_platform, platform_channel):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload("POST", "/api/v1/statuses", "mastodon/status_created")
    reply = OutgoingReply(
        reply_id=43,
        ticket_id=7,
        text="@lea_liest@literatur.social Hallo Lea, ja, leise bitte.",
        visibility="public",
        in_reply_to="111300000000000002",
        recipient_handle="lea_liest@literatur.social",
    )

    MastodonAdapter().send_reply(channel, reply)

    body = fake_platform.requests_to("POST", "/api/v1/statuses")[0].json()
    assert body["status"] == reply.text
    assert body["visibility"] == "public"


def test_block_posts_to_the_accounts_block_endpoint(fake_platform, platform_channel):
    channel = platform_channel("mastodon")
    fake_platform.serve_payload(
        "POST", "/api/v1/accounts/71003/block", "mastodon/notifications_empty"
    )

    MastodonAdapter().block(channel, RawAuthor("kai", "Kai", "71003"))

    assert len(fake_platform.requests_to("POST", "/api/v1/accounts/71003/block")) == 1
