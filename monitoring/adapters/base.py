"""The channel adapter interface: one module per platform implements it.

An adapter only talks to its platform and never touches the database: `fetch` returns
`FetchResult(mentions, next_cursor)`; `send_reply` gets an `OutgoingReply` value.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol

Capability = Literal["fetch", "reply_public", "reply_private", "hide", "block"]


class AdapterError(Exception):
    """Base of adapter failures. Messages never contain credentials."""


class AdapterUnavailable(AdapterError):
    """Network failure, timeout, 5xx or 429: try again later (`retry_after` seconds if known)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AdapterUnauthorized(AdapterError):
    """401/403: the credentials are wrong or revoked; the channel is unhealthy."""


class PayloadInvalid(AdapterError):
    """The platform answered with something we cannot read (not retried)."""


class OutcomeUnknown(AdapterError):
    """The call may or may not have reached the platform (timeout after sending)."""


class NotSupported(AdapterError):
    """The adapter lacks the capability."""


@dataclass(frozen=True)
class RawAuthor:
    handle: str
    display_name: str = ""
    platform_user_id: str = ""


@dataclass(frozen=True)
class RawMention:
    """A post as the platform reported it, in the fields of `POST /api/v1/mentions/`."""

    external_id: str
    author: RawAuthor
    text: str
    created_at: datetime
    url: str = ""
    in_reply_to: str = ""  # external id of the parent post
    is_private: bool = False
    language: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchResult:
    mentions: list[RawMention]
    next_cursor: str | None


@dataclass(frozen=True)
class OutgoingReply:
    """What an adapter needs to post one reply; `reply_id` doubles as idempotency key."""

    reply_id: int
    ticket_id: int
    text: str
    visibility: str
    in_reply_to: str  # external id of the mention answered
    recipient_handle: str
    recipient_platform_user_id: str = ""
    is_private_conversation: bool = False


@dataclass(frozen=True)
class SentReply:
    platform_id: str
    permalink: str = ""


class ChannelAdapter(Protocol):
    capabilities: ClassVar[frozenset[Capability]]
    # True when the platform de-duplicates posts by an idempotency key we send.
    has_idempotency_keys: ClassVar[bool]

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult: ...

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply: ...

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None: ...

    def hide(self, channel: Any, external_id: str) -> None: ...

    def block(self, channel: Any, author: RawAuthor) -> None: ...
