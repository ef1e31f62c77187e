"""RSS/Atom sources (forums, review sites, blogs): read only.

- fetch: the feed at the channel's `base_url` (or `config["feed_url"]`), downloaded with
  httpx (timeouts, status codes, Retry-After like every platform) and parsed by feedparser.
  An entry's `id` (else its link) is the external id; `author`, `published` (else
  `updated`). Cursor: time based (`TimeCursor`), so a re-poll does not send old entries
  again (the intake would ignore them anyway).
- Replies are posted by hand and confirmed with their permalink (DESIGN §3.2): no reply,
  hide or block capability.
"""

import calendar
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser

from monitoring.adapters.base import (
    Capability,
    FetchResult,
    NotSupported,
    OutgoingReply,
    PayloadInvalid,
    RawAuthor,
    RawMention,
    SentReply,
)
from monitoring.adapters.common import TimeCursor, html_to_text
from monitoring.adapters.http import PlatformClient, credentials_of


class RssAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"fetch"})
    has_idempotency_keys: ClassVar[bool] = False

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        feed_url = (channel.config or {}).get("feed_url") or channel.base_url
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml"}
        token = credentials_of(channel).get("access_token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        client = PlatformClient.for_channel(
            channel, label="Feed", default_base_url=feed_url, headers=headers
        )
        response = client.request("GET", feed_url)
        parsed = feedparser.parse(response.content)
        if not parsed.get("version") and not parsed.entries:
            raise PayloadInvalid("Feed: the answer is neither RSS nor Atom.")
        since = TimeCursor.load(cursor)
        found = [mention for entry in parsed.entries if (mention := _entry_mention(entry, channel))]
        new = [mention for mention in found if since.is_new(mention)]
        return FetchResult(mentions=new, next_cursor=since.advanced(new).dump() or cursor)

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        raise NotSupported("Feeds are read only: post the reply by hand and confirm it.")

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        return None

    def hide(self, channel: Any, external_id: str) -> None:
        raise NotSupported("Feeds are read only.")

    def block(self, channel: Any, author: RawAuthor) -> None:
        raise NotSupported("Feeds are read only.")


def _entry_time(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _entry_mention(entry: Any, channel: Any) -> RawMention | None:
    external_id = str(entry.get("id") or entry.get("link") or "")
    created_at = _entry_time(entry)
    if not external_id or created_at is None:
        return None  # an entry without identity or time cannot be threaded or ordered
    body = entry.get("summary") or ""
    if entry.get("content"):
        body = entry["content"][0].get("value") or body
    title = str(entry.get("title") or "")
    text = html_to_text(str(body)) or title
    author = str(entry.get("author") or channel.slug)
    return RawMention(
        external_id=external_id[:255],
        author=RawAuthor(handle=author, display_name=author),
        text=text,
        created_at=created_at,
        url=str(entry.get("link") or ""),
        raw={"title": title, "link": str(entry.get("link") or ""), "id": external_id},
    )
