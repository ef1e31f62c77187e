"""The outbox: sends approved replies through their channel's adapter, at least once and
never twice (DESIGN §3.2).

The reply is marked `sending` (committed) before the platform call; its id is the
idempotency key. After a crash, a reply found in `sending` has an unknown outcome: where
the platform de-duplicates by key we simply send again; otherwise the adapter looks for the
posted message, and if it cannot find it the reply becomes `failed` ("outcome unknown") for
a person to check. Only this module calls `send_reply`.
"""

import logging
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from monitoring.adapters import adapter_for
from monitoring.adapters.base import (
    AdapterError,
    AdapterUnauthorized,
    AdapterUnavailable,
    NotSupported,
    OutcomeUnknown,
    OutgoingReply,
    PayloadInvalid,
)
from servicedesk.queue import delay_safely
from tickets import actions, tasks
from tickets.choices import ReplyStatus, ReplyVisibility
from tickets.models import Reply

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # then the reply is failed and a person decides
RETRY_BACKOFF_SECONDS = (5, 30, 120, 600)  # after attempt 1, 2, 3, 4
SENDING_STALE_AFTER = timedelta(minutes=2)  # a `sending` reply older than this was abandoned


def outgoing(reply: Reply) -> OutgoingReply:
    mention = reply.in_reply_to_mention
    return OutgoingReply(
        reply_id=reply.pk,
        ticket_id=reply.ticket_id,
        text=reply.text,
        visibility=reply.visibility,
        in_reply_to=mention.external_id,
        recipient_handle=mention.author_handle,
        recipient_platform_user_id=mention.author_platform_user_id,
        is_private_conversation=mention.is_private,
    )


def _backoff(attempts: int, now: datetime, retry_after: float | None) -> datetime | None:
    if attempts >= MAX_ATTEMPTS:
        return None
    seconds = RETRY_BACKOFF_SECONDS[min(attempts - 1, len(RETRY_BACKOFF_SECONDS) - 1)]
    if retry_after is not None:
        seconds = max(seconds, retry_after)
    return now + timedelta(seconds=seconds)


def deliver_reply(reply_id: int, *, now: datetime) -> str:
    """Send one approved reply if it is due. Returns the reply's status afterwards."""
    reply = actions.claim_reply_for_sending(reply_id, now=now)  # commits `sending`
    if reply is None:
        return Reply.objects.filter(pk=reply_id).values_list("status", flat=True).first() or ""
    return _call_platform(reply, now=now)


def _call_platform(reply: Reply, *, now: datetime) -> str:
    channel = reply.ticket.channel
    adapter = adapter_for(channel)
    capability = "reply_private" if reply.visibility == ReplyVisibility.PRIVATE else "reply_public"
    if capability not in adapter.capabilities:
        # Hand-posted channels: the author confirms with the permalink; nothing to send.
        actions.record_reply_attempt_failed(
            reply.pk,
            error=_("This channel cannot post replies; post it by hand and confirm it."),
            now=now,
            retry_at=None,
        )
        return ReplyStatus.FAILED
    try:
        sent = adapter.send_reply(channel, outgoing(reply))
    except AdapterUnavailable as error:
        retry_at = _backoff(reply.attempts, now, error.retry_after)
        actions.record_reply_attempt_failed(reply.pk, error=str(error), now=now, retry_at=retry_at)
        return ReplyStatus.APPROVED if retry_at else ReplyStatus.FAILED
    except OutcomeUnknown as error:
        return _settle_unknown(reply, now=now, error=str(error))
    except (AdapterUnauthorized, PayloadInvalid, NotSupported, AdapterError) as error:
        actions.record_reply_attempt_failed(reply.pk, error=str(error), now=now, retry_at=None)
        return ReplyStatus.FAILED
    actions.record_reply_sent(
        reply.pk, platform_id=sent.platform_id, permalink=sent.permalink, now=now
    )
    return ReplyStatus.SENT


def _settle_unknown(reply: Reply, *, now: datetime, error: str) -> str:
    """The call may have posted. With an idempotency key, sending again is safe; otherwise
    look for the post, and mark it failed ("outcome unknown") if it cannot be found."""
    channel = reply.ticket.channel
    adapter = adapter_for(channel)
    if adapter.has_idempotency_keys:
        retry_at = _backoff(reply.attempts, now, None)
        actions.record_reply_attempt_failed(reply.pk, error=error, now=now, retry_at=retry_at)
        return ReplyStatus.APPROVED if retry_at else ReplyStatus.FAILED
    try:
        found = adapter.find_sent_reply(channel, outgoing(reply))
    except AdapterError:
        found = None
    if found is not None:
        actions.record_reply_sent(
            reply.pk, platform_id=found.platform_id, permalink=found.permalink, now=now
        )
        return ReplyStatus.SENT
    actions.record_reply_attempt_failed(
        reply.pk,
        error=_("Outcome unknown: the platform may have posted it. Check before retrying."),
        now=now,
        retry_at=None,
    )
    return ReplyStatus.FAILED


def send_pending_replies(*, now: datetime) -> int:
    """The sweep: enqueue approved replies that are due, and settle replies left in
    `sending` by a worker that died mid-call."""
    stale = list(
        Reply.objects.filter(
            status=ReplyStatus.SENDING, sending_started_at__lt=now - SENDING_STALE_AFTER
        )
        .select_related("ticket__channel", "in_reply_to_mention")
        .order_by("sending_started_at")[:100]
    )
    for reply in stale:
        _settle_unknown(reply, now=now, error=_("The worker stopped during the platform call."))
    due = list(
        Reply.objects.due_for_delivery(now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for reply_id in due:
        delay_safely(tasks.send_reply_task, reply_id)
    return len(due) + len(stale)
