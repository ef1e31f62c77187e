"""Facebook Page (Graph API): comments on the page's posts and Messenger conversations.

- fetch: `GET /{page-id}/feed?fields=...,comments{...}` (comments and their replies; the
  parent comment is `parent.id`), and `GET /{page-id}/conversations?fields=messages{...}`
  (private). Pages follow `paging.cursors.after` while `paging.next` exists. Graph API
  cursors must not be stored, so the poll cursor is time based (`TimeCursor`).
- reply: `POST /{comment-id}/comments` (public); private: `POST /{page-id}/messages` to the
  person (Messenger) or, for a comment, as a private reply (`recipient.comment_id`).
- No idempotency keys: `find_sent_reply` reads the comment's replies by the page.
- hide: `POST /{comment-id}` with `is_hidden=true`; block: `POST /{page-id}/blocked`.

Channel config: `page_id`. Credentials: a page access token, sent as a bearer header (never
in the query, where it could reach a log). HTTP through monitoring.adapters.http.
"""

from typing import Any, ClassVar

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
from monitoring.adapters.common import TimeCursor
from monitoring.adapters.http import PlatformClient, parse_timestamp, require, required_config

DEFAULT_BASE_URL = "https://graph.facebook.com/v19.0"
MAX_PAGES = 5  # of posts and of conversations per poll
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url"
FEED_FIELDS = f"id,created_time,permalink_url,comments.limit(100){{{COMMENT_FIELDS}}}"
CONVERSATION_FIELDS = "id,updated_time,messages.limit(25){id,message,created_time,from}"


class FacebookAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"fetch", "reply_public", "reply_private", "hide", "block"}
    )
    has_idempotency_keys: ClassVar[bool] = False
    # What the desk shows of the adapter and what it cannot work without (monitoring.health).
    label: ClassVar[str] = "Facebook"
    config_key: ClassVar[str] = "page_id"
    needs_access_token: ClassVar[bool] = True

    def _client(self, channel: Any) -> PlatformClient:
        return PlatformClient.with_bearer_token(
            channel, label=self.label, default_base_url=DEFAULT_BASE_URL
        )

    def _page_id(self, channel: Any) -> str:
        return required_config(channel, self.config_key, label=self.label)

    # ------------------------------------------------------------------ fetch

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        client = self._client(channel)
        page_id = self._page_id(channel)
        since = TimeCursor.load(cursor)
        found: list[RawMention] = []
        for post in _paged(client, f"/{page_id}/feed", {"fields": FEED_FIELDS, "limit": "25"}):
            comments = (post.get("comments") or {}).get("data") or []
            for comment in require(comments, list, "post.comments.data"):
                mention = _comment_mention(comment, post_id=str(post.get("id", "")))
                if mention.author.platform_user_id != page_id:
                    found.append(mention)
        conversations = _paged(
            client, f"/{page_id}/conversations", {"fields": CONVERSATION_FIELDS, "limit": "25"}
        )
        for conversation in conversations:
            messages = (conversation.get("messages") or {}).get("data") or []
            for message in require(messages, list, "conversation.messages.data"):
                mention = _message_mention(message, conversation_id=str(conversation.get("id")))
                if mention.author.platform_user_id != page_id:
                    found.append(mention)
        new = [mention for mention in found if since.is_new(mention)]
        return FetchResult(mentions=new, next_cursor=since.advanced(new).dump() or cursor)

    # ------------------------------------------------------------------ replies

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        client = self._client(channel)
        if reply.visibility == "private":
            if reply.is_private_conversation:
                if not reply.recipient_platform_user_id:
                    raise NotSupported("Facebook: the recipient's id is unknown.")
                recipient = {"id": reply.recipient_platform_user_id}
            else:
                recipient = {"comment_id": reply.in_reply_to}  # a private reply to a comment
            answer = client.json(
                "POST",
                f"/{self._page_id(channel)}/messages",
                json_body={
                    "recipient": recipient,
                    "messaging_type": "RESPONSE",
                    "message": {"text": reply.text},
                },
            )
            message_id = require(answer, dict, "send answer").get("message_id")
            if not message_id:
                raise PayloadInvalid("Facebook: the sent message has no message_id.")
            return SentReply(platform_id=str(message_id))
        answer = client.json(
            "POST", f"/{reply.in_reply_to}/comments", json_body={"message": reply.text}
        )
        comment_id = require(answer, dict, "comment answer").get("id")
        if not comment_id:
            raise PayloadInvalid("Facebook: the created comment has no id.")
        return SentReply(platform_id=str(comment_id))

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        """A public reply among the comment's replies written by the page."""
        if reply.visibility == "private":
            return None  # Messenger offers no lookup by text; a person checks
        page_id = self._page_id(channel)
        client = self._client(channel)
        for comment in _paged(
            client, f"/{reply.in_reply_to}/comments", {"fields": "id,message,from"}
        ):
            author = comment.get("from") or {}
            if str(author.get("id")) == page_id and comment.get("message") == reply.text:
                return SentReply(platform_id=str(comment["id"]))
        return None

    # ------------------------------------------------------------------ moderation

    def hide(self, channel: Any, external_id: str) -> None:
        answer = self._client(channel).json(
            "POST", f"/{external_id}", json_body={"is_hidden": True}
        )
        if require(answer, dict, "hide answer").get("success") is not True:
            raise PayloadInvalid("Facebook: the comment was not hidden.")

    def block(self, channel: Any, author: RawAuthor) -> None:
        if not author.platform_user_id:
            raise NotSupported("Facebook: the author's id is unknown.")
        self._client(channel).json(
            "POST",
            f"/{self._page_id(channel)}/blocked",
            json_body={"user": author.platform_user_id},
        )


def _paged(client: PlatformClient, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every item of a cursor-paged edge, up to MAX_PAGES pages."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    for _page in range(MAX_PAGES):
        query = {**params, **({"after": after} if after else {})}
        page = require(client.json("GET", path, params=query), dict, "paged answer")
        for item in require(page.get("data", []), list, "data"):
            items.append(require(item, dict, "item"))
        paging = page.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not paging.get("next") or not after:
            break
    return items


def _author(value: Any) -> RawAuthor:
    author = value if isinstance(value, dict) else {}
    user_id = str(author.get("id") or "")
    # Graph API names people, it has no handles; the id keys the identity.
    return RawAuthor(
        handle=str(author.get("name") or user_id or "facebook-user"),
        display_name=str(author.get("name") or ""),
        platform_user_id=user_id,
    )


def _comment_mention(comment: Any, *, post_id: str) -> RawMention:
    require(comment, dict, "comment")
    if not comment.get("id"):
        raise PayloadInvalid("Unexpected payload: a comment without id.")
    parent = comment.get("parent") or {}
    return RawMention(
        external_id=str(comment["id"]),
        author=_author(comment.get("from")),
        text=str(comment.get("message") or ""),
        created_at=parse_timestamp(comment.get("created_time")),
        url=str(comment.get("permalink_url") or ""),
        in_reply_to=str(parent.get("id") or ""),
        raw={**comment, "post_id": post_id},
    )


def _message_mention(message: Any, *, conversation_id: str) -> RawMention:
    require(message, dict, "message")
    if not message.get("id"):
        raise PayloadInvalid("Unexpected payload: a message without id.")
    return RawMention(
        external_id=str(message["id"]),
        author=_author(message.get("from")),
        text=str(message.get("message") or ""),
        created_at=parse_timestamp(message.get("created_time")),
        is_private=True,
        raw={**message, "conversation_id": conversation_id},
    )
