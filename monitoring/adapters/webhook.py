"""Webhook bridges (DESIGN §6): outbound only. Mentions arrive through the REST API.

An approved reply is POSTed as JSON `{reply_id, ticket, channel, in_reply_to, text,
visibility, recipient}` to the channel's `callback_url`, signed with the channel's secret:
`X-Timestamp: <unix seconds>`, `X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`,
and `Idempotency-Key: <reply id>` (the receiver de-duplicates, so re-sending is safe).

A 2xx answer with `{"external_id": …}` marks the reply sent; a 2xx without it fails the reply
without retry (PayloadInvalid); 5xx and timeouts are retried (AdapterUnavailable, or
OutcomeUnknown after sending, safe here thanks to the key); other 4xx fail for good.
"""

import hashlib
import hmac
import json
import time
from typing import Any, ClassVar

from monitoring.adapters.base import (
    AdapterUnauthorized,
    Capability,
    FetchResult,
    NotSupported,
    OutgoingReply,
    PayloadInvalid,
    RawAuthor,
    SentReply,
)
from monitoring.adapters.http import PlatformClient


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Signature value for `body` sent at `timestamp`."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class WebhookAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"reply_public", "reply_private"})
    has_idempotency_keys: ClassVar[bool] = True

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        return FetchResult(mentions=[], next_cursor=cursor)  # inbound comes through the API

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        if not channel.callback_url:
            raise NotSupported("Webhook: the channel has no callback URL.")
        if not channel.webhook_secret:
            raise AdapterUnauthorized("Webhook: the channel has no signing secret.")
        body = json.dumps(
            {
                "reply_id": reply.reply_id,
                "ticket": reply.ticket_id,
                "channel": channel.slug,
                "in_reply_to": reply.in_reply_to,
                "text": reply.text,
                "visibility": reply.visibility,
                "recipient": reply.recipient_handle,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        client = PlatformClient.for_channel(
            channel, label="Webhook", default_base_url=channel.callback_url
        )
        response = client.request(
            "POST",
            channel.callback_url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Timestamp": timestamp,
                "X-Signature": sign(channel.webhook_secret, timestamp, body),
                "Idempotency-Key": str(reply.reply_id),
            },
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        external_id = answer.get("external_id") if isinstance(answer, dict) else None
        if external_id in (None, "") or isinstance(external_id, dict | list | bool):
            raise PayloadInvalid("Webhook: the receiver's answer has no external_id.")
        permalink = answer.get("permalink") if isinstance(answer, dict) else ""
        return SentReply(platform_id=str(external_id), permalink=str(permalink or ""))

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        return None  # never needed: the idempotency key makes re-sending safe

    def hide(self, channel: Any, external_id: str) -> None:
        raise NotSupported("Webhook bridges cannot hide posts.")

    def block(self, channel: Any, author: RawAuthor) -> None:
        raise NotSupported("Webhook bridges cannot block authors.")
