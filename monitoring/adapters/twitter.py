"""X / Twitter (API v2): mentions, listening keywords and direct messages; replies and DMs.

- fetch: `GET /2/users/:id/mentions` (`since_id`, `pagination_token`), the recent search
  `GET /2/tweets/search/recent` for the channel's keywords (`since_id`, `next_token`), and
  `GET /2/dm_events` (newest first; paged until the cursor's event). `expansions=author_id`
  (`sender_id` for DMs) with `user.fields=username,name` names the authors.
  Cursor: JSON {"mentions": id, "search": id, "dm": id}, each the newest seen.
- reply: `POST /2/tweets` with `reply.in_reply_to_tweet_id`; private:
  `POST /2/dm_conversations/with/:participant_id/messages`.
- X has no idempotency keys: after an unknown outcome, `find_sent_reply` searches the own
  account's recent tweets (or the DM conversation) for the reply's parent and text.
- hide: `PUT /2/tweets/:id/hidden` (replies to the own account's tweets).

Channel config: `user_id` (the own account's numeric id). Credentials: a user access token.
HTTP through monitoring.adapters.http (why: see there).
"""

import json
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
from monitoring.adapters.http import (
    PlatformClient,
    is_newer_id,
    newest_by_number,
    parse_timestamp,
    require,
    required_config,
)

DEFAULT_BASE_URL = "https://api.x.com"
PAGE_SIZE = 100  # the maximum per request for mentions, search and DM events
MAX_PAGES = 5  # per source and poll; the rest follows on the next poll
TWEET_FIELDS = "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,lang,author_id"
USER_FIELDS = "username,name"


class TwitterAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"fetch", "reply_public", "reply_private", "hide"}
    )
    has_idempotency_keys: ClassVar[bool] = False
    # What the desk shows of the adapter and what it cannot work without (monitoring.health).
    label: ClassVar[str] = "X"
    config_key: ClassVar[str] = "user_id"
    needs_access_token: ClassVar[bool] = True

    def _client(self, channel: Any) -> PlatformClient:
        return PlatformClient.with_bearer_token(
            channel, label=self.label, default_base_url=DEFAULT_BASE_URL
        )

    def _user_id(self, channel: Any) -> str:
        return required_config(channel, self.config_key, label=self.label)

    # ------------------------------------------------------------------ fetch

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        client = self._client(channel)
        user_id = self._user_id(channel)
        state = _load_cursor(cursor)
        mentions, state["mentions"] = self._tweets(
            client,
            f"/2/users/{user_id}/mentions",
            {},
            since_id=state.get("mentions"),
            token_param="pagination_token",
        )
        if channel.keywords:
            query = " OR ".join(f'"{keyword}"' for keyword in channel.keywords) + " -is:retweet"
            found, state["search"] = self._tweets(
                client,
                "/2/tweets/search/recent",
                {"query": query},
                since_id=state.get("search"),
                token_param="next_token",
            )
            mentions += found
        messages, state["dm"] = self._direct_messages(client, user_id, since_id=state.get("dm"))
        mentions += messages
        return FetchResult(mentions=mentions, next_cursor=_dump_cursor(state))

    def _tweets(
        self,
        client: PlatformClient,
        path: str,
        extra: dict[str, str],
        *,
        since_id: str | None,
        token_param: str,
    ) -> tuple[list[RawMention], str | None]:
        mentions: list[RawMention] = []
        newest: list[str] = []
        next_token: str | None = None
        for _page in range(MAX_PAGES):
            params = {
                **extra,
                "max_results": str(PAGE_SIZE),
                "expansions": "author_id",
                "tweet.fields": TWEET_FIELDS,
                "user.fields": USER_FIELDS,
            }
            if since_id:
                params["since_id"] = since_id
            if next_token:
                params[token_param] = next_token
            page = require(client.json("GET", path, params=params), dict, "tweets page")
            users = _users_by_id(page)
            for tweet in page.get("data") or []:
                mentions.append(_tweet_mention(tweet, users))
            meta = page.get("meta") or {}
            if meta.get("newest_id"):
                newest.append(str(meta["newest_id"]))
            next_token = meta.get("next_token")
            if not next_token:
                break
        newest += [mention.external_id for mention in mentions]
        return mentions, newest_by_number(newest) or since_id

    def _direct_messages(
        self, client: PlatformClient, user_id: str, *, since_id: str | None
    ) -> tuple[list[RawMention], str | None]:
        mentions: list[RawMention] = []
        seen_ids: list[str] = []
        next_token: str | None = None
        for _page in range(MAX_PAGES):
            params = {
                "max_results": str(PAGE_SIZE),
                "event_types": "MessageCreate",
                "dm_event.fields": "id,text,event_type,created_at,sender_id,dm_conversation_id",
                "expansions": "sender_id",
                "user.fields": USER_FIELDS,
            }
            if next_token:
                params["pagination_token"] = next_token
            page = require(client.json("GET", "/2/dm_events", params=params), dict, "dm page")
            users = _users_by_id(page)
            reached_cursor = False
            for event in page.get("data") or []:
                require(event, dict, "dm event")
                event_id = str(event.get("id") or "")
                if since_id and not is_newer_id(event_id, since_id):
                    reached_cursor = True  # events come newest first
                    break
                seen_ids.append(event_id)
                if event.get("event_type") != "MessageCreate":
                    continue
                if str(event.get("sender_id")) == user_id:
                    continue  # our own messages: sent replies, already known
                mentions.append(_dm_mention(event, users))
            next_token = (page.get("meta") or {}).get("next_token")
            if reached_cursor or not next_token:
                break
        return mentions, newest_by_number(seen_ids) or since_id

    # ------------------------------------------------------------------ replies

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        client = self._client(channel)
        if reply.visibility == "private":
            participant = reply.recipient_platform_user_id
            if not participant:
                raise NotSupported("X: the recipient's user id is unknown.")
            answer = client.json(
                "POST",
                f"/2/dm_conversations/with/{participant}/messages",
                json_body={"text": reply.text},
            )
            data = require(require(answer, dict, "dm answer").get("data"), dict, "dm data")
            if not data.get("dm_event_id"):
                raise PayloadInvalid("X: the sent message has no dm_event_id.")
            return SentReply(platform_id=str(data["dm_event_id"]))
        answer = client.json(
            "POST",
            "/2/tweets",
            json_body={"text": reply.text, "reply": {"in_reply_to_tweet_id": reply.in_reply_to}},
        )
        data = require(require(answer, dict, "tweet answer").get("data"), dict, "tweet data")
        if not data.get("id"):
            raise PayloadInvalid("X: the created tweet has no id.")
        return SentReply(platform_id=str(data["id"]), permalink=_tweet_url("i", str(data["id"])))

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        """The reply among the own account's recent tweets (or DMs to the recipient)."""
        client = self._client(channel)
        user_id = self._user_id(channel)
        if reply.visibility == "private":
            if not reply.recipient_platform_user_id:
                return None
            page = client.json(
                "GET",
                f"/2/dm_conversations/with/{reply.recipient_platform_user_id}/dm_events",
                params={"dm_event.fields": "id,text,sender_id,created_at", "max_results": "100"},
            )
            for event in require(page, dict, "dm page").get("data") or []:
                if str(event.get("sender_id")) == user_id and event.get("text") == reply.text:
                    return SentReply(platform_id=str(event["id"]))
            return None
        page = client.json(
            "GET",
            f"/2/users/{user_id}/tweets",
            params={"tweet.fields": "referenced_tweets,created_at", "max_results": "100"},
        )
        for tweet in require(page, dict, "tweets page").get("data") or []:
            parents = {
                str(reference.get("id"))
                for reference in tweet.get("referenced_tweets") or []
                if reference.get("type") == "replied_to"
            }
            if reply.in_reply_to in parents and tweet.get("text", "").strip() == reply.text.strip():
                return SentReply(str(tweet["id"]), permalink=_tweet_url("i", str(tweet["id"])))
        return None

    # ------------------------------------------------------------------ moderation

    def hide(self, channel: Any, external_id: str) -> None:
        answer = self._client(channel).json(
            "PUT", f"/2/tweets/{external_id}/hidden", json_body={"hidden": True}
        )
        data = require(answer, dict, "hide answer").get("data") or {}
        if data.get("hidden") is not True:
            raise PayloadInvalid("X: the reply was not hidden.")

    def block(self, channel: Any, author: RawAuthor) -> None:
        raise NotSupported("X API v2 offers no blocking for this account type.")


def _load_cursor(cursor: str | None) -> dict[str, str | None]:
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _dump_cursor(state: dict[str, str | None]) -> str | None:
    kept = {key: value for key, value in state.items() if value}
    return json.dumps(kept, sort_keys=True) if kept else None


def _users_by_id(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    users = (page.get("includes") or {}).get("users") or []
    return {str(user.get("id")): user for user in users if isinstance(user, dict)}


def _tweet_url(username: str, tweet_id: str) -> str:
    return f"https://x.com/{username}/status/{tweet_id}"


def _tweet_mention(tweet: Any, users: dict[str, dict[str, Any]]) -> RawMention:
    require(tweet, dict, "tweet")
    tweet_id = str(tweet.get("id") or "")
    author_id = str(tweet.get("author_id") or "")
    user = users.get(author_id)
    if not tweet_id or user is None or not user.get("username"):
        raise PayloadInvalid("Unexpected payload: a tweet without id or expanded author.")
    in_reply_to = next(
        (
            str(reference.get("id"))
            for reference in tweet.get("referenced_tweets") or []
            if reference.get("type") == "replied_to"
        ),
        "",
    )
    return RawMention(
        external_id=tweet_id,
        author=RawAuthor(
            handle=str(user["username"]),
            display_name=str(user.get("name") or ""),
            platform_user_id=author_id,
        ),
        text=str(tweet.get("text") or ""),
        created_at=parse_timestamp(tweet.get("created_at")),
        url=_tweet_url(str(user["username"]), tweet_id),
        in_reply_to=in_reply_to,
        language=str(tweet.get("lang") or ""),
        raw=tweet,
    )


def _dm_mention(event: dict[str, Any], users: dict[str, dict[str, Any]]) -> RawMention:
    sender_id = str(event.get("sender_id") or "")
    user = users.get(sender_id) or {}
    if not event.get("id") or not sender_id:
        raise PayloadInvalid("Unexpected payload: a direct message without id or sender.")
    return RawMention(
        external_id=str(event["id"]),
        author=RawAuthor(
            handle=str(user.get("username") or sender_id),
            display_name=str(user.get("name") or ""),
            platform_user_id=sender_id,
        ),
        text=str(event.get("text") or ""),
        created_at=parse_timestamp(event.get("created_at")),
        is_private=True,
        raw=event,
    )
