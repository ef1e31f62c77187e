"""Mastodon: mentions (public and private) from the notifications API; replies as statuses.

- fetch: `GET /api/v1/notifications?types[]=mention`. The first poll (no cursor) reads the
  newest pages, older ones through the `Link` header's `max_id`. Later polls page forward
  from the cursor with `min_id` (the page just above it), oldest first, so a backlog larger
  than one poll's pages is read on the next polls, not skipped (`since_id` would return the
  newest page and the cursor would jump over everything between). A status with
  `visibility == "direct"` is a private mention. Cursor: the newest notification id read.
- reply: `POST /api/v1/statuses` with `in_reply_to_id`, `visibility=direct` for private
  replies and `Idempotency-Key: <reply id>` (Mastodon de-duplicates by it).
- block: `POST /api/v1/accounts/:id/block`. Mastodon cannot hide another account's status.

Channel: `base_url` is the instance (https://social.example); credentials are the account's
access token. HTTP through monitoring.adapters.http (why: see there).
"""

from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

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
from monitoring.adapters.common import html_to_text
from monitoring.adapters.http import (
    PlatformClient,
    is_newer_id,
    newest_by_number,
    parse_timestamp,
    require,
)

PAGE_SIZE = 40  # the API's maximum for notifications
MAX_PAGES = 10  # per poll; the rest follows on the next poll (the cursor only moves forward)


class MastodonAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"fetch", "reply_public", "reply_private", "block"}
    )
    has_idempotency_keys: ClassVar[bool] = True
    # What the desk shows of the adapter and what it cannot work without (monitoring.health).
    label: ClassVar[str] = "Mastodon"
    config_key: ClassVar[str] = ""
    needs_access_token: ClassVar[bool] = True

    def _client(self, channel: Any) -> PlatformClient:
        return PlatformClient.with_bearer_token(
            channel, label=self.label, default_base_url="", Accept="application/json"
        )

    # ------------------------------------------------------------------ fetch

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        if cursor:
            return self._fetch_since(channel, cursor)
        client = self._client(channel)
        mentions: list[RawMention] = []
        notification_ids: list[str] = []
        max_id: str | None = None
        for _page in range(MAX_PAGES):
            params: list[tuple[str, str]] = [("types[]", "mention"), ("limit", str(PAGE_SIZE))]
            if cursor:
                params.append(("since_id", cursor))
            if max_id:
                params.append(("max_id", max_id))
            response = client.request("GET", "/api/v1/notifications", params=params)
            page = require(
                client.decode(response, "GET", "/api/v1/notifications"), list, "notifications"
            )
            for notification in page:
                require(notification, dict, "notification")
                notification_id = str(notification.get("id", ""))
                if not notification_id or (cursor and not is_newer_id(notification_id, cursor)):
                    continue
                notification_ids.append(notification_id)
                if notification.get("type") == "mention" and notification.get("status"):
                    mentions.append(self._mention(notification["status"]))
            max_id = _next_max_id(response.links.get("next", {}).get("url", ""))
            if not page or not max_id:
                break
        newest = newest_by_number(notification_ids)
        return FetchResult(mentions=mentions, next_cursor=newest or cursor)

    def _fetch_since(self, channel: Any, cursor: str) -> FetchResult:
        """Up to MAX_PAGES pages just above `cursor`, oldest page first (`min_id`); the
        cursor becomes the newest id read, so the next poll continues where this one ended."""
        client = self._client(channel)
        mentions: list[RawMention] = []
        newest = cursor
        for _page in range(MAX_PAGES):
            params = [("types[]", "mention"), ("limit", str(PAGE_SIZE)), ("min_id", newest)]
            response = client.request("GET", "/api/v1/notifications", params=params)
            page = require(
                client.decode(response, "GET", "/api/v1/notifications"), list, "notifications"
            )
            fresh: list[tuple[str, Any]] = []
            for notification in page:
                require(notification, dict, "notification")
                notification_id = str(notification.get("id", ""))
                if notification_id and is_newer_id(notification_id, newest):
                    fresh.append((notification_id, notification))
            if not fresh:
                break
            # A page comes newest first; the intake gets the oldest first (parents first).
            for _notification_id, notification in sorted(
                fresh, key=lambda item: (len(item[0]), item[0])
            ):
                if notification.get("type") == "mention" and notification.get("status"):
                    mentions.append(self._mention(notification["status"]))
            newest = newest_by_number([notification_id for notification_id, _ in fresh]) or newest
            if len(page) < PAGE_SIZE:
                break
        return FetchResult(mentions=mentions, next_cursor=newest)

    def _mention(self, status: Any) -> RawMention:
        require(status, dict, "status")
        account = require(status.get("account"), dict, "status.account")
        status_id = str(status.get("id") or "")
        if not status_id or not account.get("acct"):
            raise PayloadInvalid("Unexpected payload: a status without id or account.")
        return RawMention(
            external_id=status_id,
            author=RawAuthor(
                handle=str(account["acct"]),
                display_name=str(account.get("display_name") or ""),
                platform_user_id=str(account.get("id") or ""),
            ),
            text=html_to_text(str(status.get("content") or "")),
            created_at=parse_timestamp(status.get("created_at")),
            url=str(status.get("url") or status.get("uri") or ""),
            in_reply_to=str(status.get("in_reply_to_id") or ""),
            is_private=status.get("visibility") == "direct",
            language=str(status.get("language") or ""),
            raw=status,
        )

    # ------------------------------------------------------------------ replies

    def _status_text(self, reply: OutgoingReply) -> str:
        # A status reaches the person it answers (and a direct one, only them) through the
        # @mention in its text; the reviewed text is sent unchanged after it.
        handle = reply.recipient_handle.lstrip("@")
        if handle and f"@{handle}".lower() not in reply.text.lower():
            return f"@{handle} {reply.text}"
        return reply.text

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        client = self._client(channel)
        body = {
            "status": self._status_text(reply),
            "in_reply_to_id": reply.in_reply_to,
            "visibility": "direct" if reply.visibility == "private" else "public",
        }
        status = client.json(
            "POST",
            "/api/v1/statuses",
            json_body=body,
            headers={"Idempotency-Key": str(reply.reply_id)},
        )
        require(status, dict, "created status")
        if not status.get("id"):
            raise PayloadInvalid("Mastodon: the created status has no id.")
        return SentReply(platform_id=str(status["id"]), permalink=str(status.get("url") or ""))

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        """The reply among the answered status's descendants, posted by an own account."""
        client = self._client(channel)
        context = client.json("GET", f"/api/v1/statuses/{reply.in_reply_to}/context")
        for status in require(context, dict, "context").get("descendants", []):
            account = status.get("account") or {}
            if (
                str(status.get("in_reply_to_id")) == reply.in_reply_to
                and channel.is_own_account(str(account.get("acct", "")))
                and html_to_text(str(status.get("content", ""))) == self._status_text(reply)
            ):
                return SentReply(str(status["id"]), str(status.get("url") or ""))
        return None

    # ------------------------------------------------------------------ moderation

    def hide(self, channel: Any, external_id: str) -> None:
        raise NotSupported("Mastodon cannot hide another account's status.")

    def block(self, channel: Any, author: RawAuthor) -> None:
        if not author.platform_user_id:
            raise NotSupported("Mastodon: the author's account id is unknown.")
        self._client(channel).request("POST", f"/api/v1/accounts/{author.platform_user_id}/block")


def _next_max_id(url: str) -> str | None:
    if not url:
        return None
    values = parse_qs(urlparse(url).query).get("max_id")
    return values[0] if values else None
