"""Instagram (Graph API, business account): comments and replies on the account's media.

- fetch: `GET /{ig-user-id}/media?fields=...,comments{...,replies{...}}`, pages through
  `paging.cursors.after` while `paging.next` exists; a reply names its parent in
  `parent_id`. Time-based poll cursor (`TimeCursor`): Graph API cursors must not be stored.
- reply: `POST /{comment-id}/replies` with `message`.
- No idempotency keys: `find_sent_reply` reads `GET /{comment-id}/replies`.
- hide: `POST /{comment-id}?hide=true`. Instagram offers no blocking through the API.

Channel config: `ig_user_id`. Credentials: an access token (bearer header).
HTTP through monitoring.adapters.http (why: see there).
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
MAX_PAGES = 5  # of media per poll
REPLY_FIELDS = "id,text,timestamp,username,from,parent_id"
MEDIA_FIELDS = (
    f"id,caption,permalink,timestamp,comments.limit(50){{{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}}}"
)


class InstagramAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"fetch", "reply_public", "hide"})
    has_idempotency_keys: ClassVar[bool] = False
    # What the desk shows of the adapter and what it cannot work without (monitoring.health).
    label: ClassVar[str] = "Instagram"
    config_key: ClassVar[str] = "ig_user_id"
    needs_access_token: ClassVar[bool] = True

    def _client(self, channel: Any) -> PlatformClient:
        return PlatformClient.with_bearer_token(
            channel, label=self.label, default_base_url=DEFAULT_BASE_URL
        )

    def _user_id(self, channel: Any) -> str:
        return required_config(channel, self.config_key, label=self.label)

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        client = self._client(channel)
        since = TimeCursor.load(cursor)
        found: list[RawMention] = []
        after: str | None = None
        for _page in range(MAX_PAGES):
            params = {"fields": MEDIA_FIELDS, "limit": "25", **({"after": after} if after else {})}
            page = require(
                client.json("GET", f"/{self._user_id(channel)}/media", params=params),
                dict,
                "media page",
            )
            for media in require(page.get("data", []), list, "data"):
                media_url = str(media.get("permalink") or "")
                for comment in (media.get("comments") or {}).get("data") or []:
                    found.append(_comment_mention(comment, media, media_url))
                    for reply in (comment.get("replies") or {}).get("data") or []:
                        found.append(_comment_mention(reply, media, media_url))
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
        new = [
            mention
            for mention in found
            if since.is_new(mention) and not channel.is_own_account(mention.author.handle)
        ]
        return FetchResult(mentions=new, next_cursor=since.advanced(new).dump() or cursor)

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        if reply.visibility == "private":
            raise NotSupported("Instagram: private replies are not supported by this channel.")
        answer = self._client(channel).json(
            "POST", f"/{reply.in_reply_to}/replies", json_body={"message": reply.text}
        )
        comment_id = require(answer, dict, "reply answer").get("id")
        if not comment_id:
            raise PayloadInvalid("Instagram: the created reply has no id.")
        return SentReply(platform_id=str(comment_id))

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        answer = self._client(channel).json(
            "GET", f"/{reply.in_reply_to}/replies", params={"fields": "id,text,username"}
        )
        for item in require(answer, dict, "replies").get("data") or []:
            if channel.is_own_account(str(item.get("username", ""))) and (
                item.get("text") == reply.text
            ):
                return SentReply(platform_id=str(item["id"]))
        return None

    def hide(self, channel: Any, external_id: str) -> None:
        answer = self._client(channel).json("POST", f"/{external_id}", params={"hide": "true"})
        if require(answer, dict, "hide answer").get("success") is not True:
            raise PayloadInvalid("Instagram: the comment was not hidden.")

    def block(self, channel: Any, author: RawAuthor) -> None:
        raise NotSupported("Instagram offers no blocking through the API.")


def _comment_mention(comment: Any, media: dict[str, Any], media_url: str) -> RawMention:
    require(comment, dict, "comment")
    if not comment.get("id") or not comment.get("username"):
        raise PayloadInvalid("Unexpected payload: a comment without id or username.")
    author = comment.get("from") or {}
    return RawMention(
        external_id=str(comment["id"]),
        author=RawAuthor(
            handle=str(comment["username"]),
            display_name=str(author.get("username") or ""),
            platform_user_id=str(author.get("id") or ""),
        ),
        text=str(comment.get("text") or ""),
        created_at=parse_timestamp(comment.get("timestamp")),
        url=media_url,
        in_reply_to=str(comment.get("parent_id") or ""),
        raw={**{k: v for k, v in comment.items() if k != "replies"}, "media_id": media.get("id")},
    )
