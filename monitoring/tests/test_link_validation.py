"""Issue 18, point 4: links from platforms are checked in the intake. Only absolute http(s)
URLs are stored (and so rendered as links); anything else is dropped with a log line,
whichever adapter or path brought it."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.models import Mention
from servicedesk.links import is_web_url
from servicedesk.tests.apiclient import assert_error, client_for
from tickets import polling
from tickets.intake import receive_mentions

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


def test_an_rss_item_linking_to_javascript_is_stored_without_its_link(
    fake_platform: Any, platform_channel: Any, agent: Any, caplog: Any
) -> None:
    channel = platform_channel("rss", next_poll_at=NOW - timedelta(seconds=1))
    fake_platform.serve_payload("GET", "/feed.xml", "rss/hostile_links")

    with caplog.at_level(logging.WARNING, logger="monitoring.actions.mentions"):
        outcome = polling.poll_channel(channel, now=NOW)

    assert outcome.status == "polled"
    mentions = Mention.objects.filter(channel=channel).order_by("external_id")
    assert [(mention.external_id, mention.url) for mention in mentions] == [
        ("forum-post-1", ""),
        ("forum-post-2", ""),
    ]
    assert "link dropped (not an http(s) URL; scheme 'javascript')" in caplog.text
    assert "scheme 'data'" in caplog.text
    assert "document.cookie" not in caplog.text  # the log names the scheme, not the link
    client = Client()
    client.force_login(agent)
    page = client.get(f"/tickets/{mentions[0].ticket_id}/").content.decode()
    assert "javascript:" not in page


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://forum.example/t/1", "https://forum.example/t/1"),
        ("HTTP://forum.example/t/1", "HTTP://forum.example/t/1"),
        ("javascript:alert(1)", ""),
        ("JaVaScRiPt:alert(1)", ""),
        ("data:text/html,x", ""),
        ("vbscript:msgbox", ""),
        ("//evil.example/x", ""),
        ("/relative/path", ""),
        ("ftp://files.example/x", ""),
        ("https://", ""),
        ("https://exa mple.org/", ""),
        ("https://example.org/\x00", ""),
    ],
)
def test_every_intake_path_keeps_only_web_links(channel: Any, url: str, stored: str) -> None:
    mention = RawMention(
        external_id="m-1",
        author=RawAuthor(handle="erika"),
        text="Hallo",
        created_at=NOW,
        url=url,
    )

    receive_mentions(channel, [mention], now=NOW)

    assert Mention.objects.get(channel=channel, external_id="m-1").url == stored
    assert is_web_url(url) is bool(stored)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example/x"])
def test_the_api_refuses_a_mention_whose_link_is_not_http(
    api_client_user: Any, channel: Any, url: str
) -> None:
    response = client_for(api_client_user).post(
        "/api/v1/mentions/",
        {
            "channel": channel.slug,
            "external_id": "x-1",
            "author": {"handle": "@erika"},
            "text": "Hallo",
            "created_at": "2026-11-09T08:00:00Z",
            "url": url,
        },
        format="json",
    )

    body = assert_error(response, 400, "invalid")
    assert "url" in body["errors"]
    assert not Mention.objects.exists()
