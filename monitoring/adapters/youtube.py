"""YouTube (Data API v3): comments on the channel's videos.

- fetch: `GET /commentThreads?part=snippet,replies&allThreadsRelatedToChannelId=...` with
  `pageToken` (newest first, `order=time`); top-level comments and the replies included in
  the thread (`snippet.parentId`). Time-based cursor on `publishedAt` (`TimeCursor`).
- reply: `POST /comments?part=snippet` with `snippet.parentId` and `snippet.textOriginal`.
- No idempotency keys: `find_sent_reply` reads `GET /comments?parentId=...`.
- hide: `POST /comments/setModerationStatus?id=...&moderationStatus=rejected`.

Channel config: `channel_id` (the own YouTube channel id). Credentials: an OAuth access
token (bearer header). HTTP through monitoring.adapters.http (why: see there).
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

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
MAX_PAGES = 5  # of comment threads per poll
PAGE_SIZE = 100  # the API's maximum for commentThreads


class YouTubeAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"fetch", "reply_public", "hide"})
    has_idempotency_keys: ClassVar[bool] = False
    # What the desk shows of the adapter and what it cannot work without (monitoring.health).
    label: ClassVar[str] = "YouTube"
    config_key: ClassVar[str] = "channel_id"
    needs_access_token: ClassVar[bool] = True

    def _client(self, channel: Any) -> PlatformClient:
        return PlatformClient.with_bearer_token(
            channel, label=self.label, default_base_url=DEFAULT_BASE_URL
        )

    def _channel_id(self, channel: Any) -> str:
        return required_config(channel, self.config_key, label=self.label)

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        client = self._client(channel)
        own_channel_id = self._channel_id(channel)
        since = TimeCursor.load(cursor)
        found: list[RawMention] = []
        page_token: str | None = None
        for _page in range(MAX_PAGES):
            params = {
                "part": "snippet,replies",
                "allThreadsRelatedToChannelId": own_channel_id,
                "maxResults": str(PAGE_SIZE),
                "order": "time",
                "textFormat": "plainText",
                **({"pageToken": page_token} if page_token else {}),
            }
            page = require(client.json("GET", "/commentThreads", params=params), dict, "threads")
            for thread in require(page.get("items", []), list, "items"):
                snippet = require(require(thread, dict, "thread").get("snippet"), dict, "snippet")
                top = require(snippet.get("topLevelComment"), dict, "topLevelComment")
                found.append(_comment_mention(top, video_id=str(snippet.get("videoId") or "")))
                for reply in (thread.get("replies") or {}).get("comments") or []:
                    found.append(_comment_mention(reply, video_id=str(snippet.get("videoId"))))
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        new = [
            mention
            for mention in found
            if since.is_new(mention) and mention.author.platform_user_id != own_channel_id
        ]
        return FetchResult(mentions=new, next_cursor=since.advanced(new).dump() or cursor)

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        if reply.visibility == "private":
            raise NotSupported("YouTube has no private messages.")
        answer = self._client(channel).json(
            "POST",
            "/comments",
            params={"part": "snippet"},
            json_body={"snippet": {"parentId": reply.in_reply_to, "textOriginal": reply.text}},
        )
        comment_id = require(answer, dict, "comment").get("id")
        if not comment_id:
            raise PayloadInvalid("YouTube: the created comment has no id.")
        return SentReply(platform_id=str(comment_id))

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        own_channel_id = self._channel_id(channel)
        answer = self._client(channel).json(
            "GET",
            "/comments",
            params={
                "part": "snippet",
                "parentId": reply.in_reply_to,
                "maxResults": "100",
                "textFormat": "plainText",
            },
        )
        for item in require(answer, dict, "comments").get("items") or []:
            snippet = item.get("snippet") or {}
            author = (snippet.get("authorChannelId") or {}).get("value")
            if author == own_channel_id and snippet.get("textOriginal") == reply.text:
                return SentReply(platform_id=str(item["id"]))
        return None

    def hide(self, channel: Any, external_id: str) -> None:
        self._client(channel).request(
            "POST",
            "/comments/setModerationStatus",
            params={"id": external_id, "moderationStatus": "rejected"},
        )

    def block(self, channel: Any, author: RawAuthor) -> None:
        raise NotSupported("YouTube: use hide; banning needs the author's comment.")


def _comment_mention(comment: Any, *, video_id: str) -> RawMention:
    require(comment, dict, "comment")
    snippet = require(comment.get("snippet"), dict, "comment.snippet")
    if not comment.get("id"):
        raise PayloadInvalid("Unexpected payload: a comment without id.")
    author_channel = (snippet.get("authorChannelId") or {}).get("value") or ""
    display_name = str(snippet.get("authorDisplayName") or "")
    return RawMention(
        external_id=str(comment["id"]),
        author=RawAuthor(
            handle=display_name or author_channel,
            display_name=display_name,
            platform_user_id=str(author_channel),
        ),
        text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
        created_at=parse_timestamp(snippet.get("publishedAt")),
        url=f"https://www.youtube.com/watch?v={video_id}&lc={comment['id']}" if video_id else "",
        in_reply_to=str(snippet.get("parentId") or ""),
        raw=comment,
    )
