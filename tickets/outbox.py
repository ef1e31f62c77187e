"""The outbox: sends approved replies through their channel's adapter, at least once and
never twice (DESIGN §3.2).

The reply is marked `sending` (committed) before the platform call; its id is the
idempotency key. After a crash, a reply found in `sending` has an unknown outcome: where
the platform de-duplicates by key we simply send again; otherwise the adapter looks for the
posted message, and if it cannot find it the reply becomes `failed` ("outcome unknown") for
a person to check. Only this module calls `send_reply`.

Both halves of delivery live here: the database steps (claim the reply as `sending`,
record it sent, record a failed attempt), each its own short transaction, and the network
step between them, outside any transaction.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from monitoring import actions as monitoring_actions
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
from monitoring.health import failure_text
from servicedesk.links import is_web_url
from servicedesk.queue import delay_safely
from tickets.actions.events import record_event
from tickets.actions.replies import (
    SEND_REPLY_TASK,
    is_posted_by_hand,
    lock_reply,
    record_sent,
    reply_capability,
    save_reply,
    tell_author,
)
from tickets.choices import NotificationKind, ReplyStatus, ReplyStep, TicketEventKind
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


# --------------------------------------------------------------------------- database steps


@transaction.atomic
def claim_reply_for_sending(reply_id: int, *, now: datetime) -> Reply | None:
    """Mark an approved, due reply `sending` before the platform call (compare-and-set):
    of two workers only one gets it. None if it is not due, someone else has it, or its
    author posts it by hand. Only the reply's row is locked (`of=("self",)`): locking the
    joined ticket, channel, mention and customer too made a worker skip every reply whose
    channel row another worker held (all of an incident statement's replies on one channel),
    so parallel senders left most of them to the sweep."""
    reply = (
        Reply.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("ticket__channel", "in_reply_to_mention", "ticket__customer")
        .filter(pk=reply_id, status=ReplyStatus.APPROVED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .first()
    )
    if reply is None or is_posted_by_hand(reply):
        return None
    reply.start_sending(at=now)
    reply.updated_at = now
    save_reply(reply, ["attempts", "sending_started_at"])
    return reply


@transaction.atomic
def record_reply_sent(reply_id: int, *, platform_id: str, permalink: str, now: datetime) -> Reply:
    """The platform accepted the reply: sent; the response clocks stop now."""
    reply = Reply.objects.get(pk=reply_id)
    reply = lock_reply(reply)
    if reply.status != ReplyStatus.SENDING:
        return reply
    if permalink and not is_web_url(permalink):
        logger.warning("reply %s: the platform's permalink dropped (not an http(s) URL)", reply.pk)
        permalink = ""
    reply.mark_sent(platform_id=platform_id, permalink=permalink, at=now)
    reply.updated_at = now
    save_reply(reply, ["platform_id", "permalink", "sent_at", "last_error", "next_attempt_at"])
    record_sent(reply, actor=None, now=now)
    monitoring_actions.record_send_outcome(reply.ticket.channel_id, ok=True, at=now)
    return reply


@transaction.atomic
def record_reply_attempt_failed(
    reply_id: int, *, error: str, now: datetime, retry_at: datetime | None, detail: str = ""
) -> Reply:
    """A failed attempt: back to approved with the next attempt time, or `failed` (with the
    error, in plain words) when no retry is left or the outcome is unknown; the channel's send
    health notes it. The author is notified once per reply (not per attempt nor per retry);
    `detail` is the adapter's technical message, kept in the event's data."""
    reply = lock_reply(Reply.objects.get(pk=reply_id))
    if reply.status != ReplyStatus.SENDING:
        return reply
    monitoring_actions.record_send_outcome(reply.ticket.channel_id, ok=False, error=error, at=now)
    if detail:
        logger.info("reply %s: delivery attempt %s failed: %s", reply.pk, reply.attempts, detail)
    if retry_at is not None:
        reply.schedule_retry(error=error, next_attempt_at=retry_at)
        reply.updated_at = now
        save_reply(reply, ["last_error", "next_attempt_at"])
        return reply
    reply.mark_failed(error=error)
    reply.updated_at = now
    save_reply(reply, ["last_error", "next_attempt_at"])
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=None,
        at=now,
        note=error,
        reply=reply.pk,
        step=ReplyStep.FAILED,
        **({"detail": detail} if detail else {}),
    )
    tell_author(
        reply,
        NotificationKind.REPLY_FAILED,
        lambda: (
            _("Your reply on ticket #%(ticket)s could not be delivered. %(error)s")
            % {"ticket": reply.ticket_id, "error": error}
        ),
        now=now,
        dedupe_key=f"reply-failed:{reply.pk}",
    )
    return reply


# --------------------------------------------------------------------------- network step


def deliver_reply(reply_id: int, *, now: datetime) -> str:
    """Send one approved reply if it is due. Returns the reply's status afterwards."""
    reply = claim_reply_for_sending(reply_id, now=now)  # commits `sending`
    if reply is None:
        return Reply.objects.filter(pk=reply_id).values_list("status", flat=True).first() or ""
    return _call_platform(reply, now=now)


def deliver_replies(reply_ids: list[int], *, now: datetime) -> int:
    """Send several approved replies one after the other (an incident statement's chunk);
    each is claimed as `deliver_reply` claims it, so two workers never send one twice.
    Returns how many were sent."""
    return sum(deliver_reply(reply_id, now=now) == ReplyStatus.SENT for reply_id in reply_ids)


def _call_platform(reply: Reply, *, now: datetime) -> str:
    channel = reply.ticket.channel
    adapter = adapter_for(channel)
    if reply_capability(reply) not in adapter.capabilities:
        # Hand-posted channels: the author confirms with the permalink; nothing to send.
        record_reply_attempt_failed(
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
        record_reply_attempt_failed(
            reply.pk,
            error=failure_text(error, channel, attempts=reply.attempts),
            detail=str(error),
            now=now,
            retry_at=retry_at,
        )
        return ReplyStatus.APPROVED if retry_at else ReplyStatus.FAILED
    except OutcomeUnknown as error:
        return _settle_unknown(reply, now=now, error=error)
    except (AdapterUnauthorized, PayloadInvalid, NotSupported, AdapterError) as error:
        record_reply_attempt_failed(
            reply.pk,
            error=failure_text(error, channel, attempts=reply.attempts),
            detail=str(error),
            now=now,
            retry_at=None,
        )
        return ReplyStatus.FAILED
    record_reply_sent(reply.pk, platform_id=sent.platform_id, permalink=sent.permalink, now=now)
    return ReplyStatus.SENT


def _settle_unknown(reply: Reply, *, now: datetime, error: OutcomeUnknown) -> str:
    """The call may have posted. With an idempotency key, sending again is safe; otherwise
    look for the post, and mark it failed ("outcome unknown") if it cannot be found."""
    channel = reply.ticket.channel
    adapter = adapter_for(channel)
    if adapter.has_idempotency_keys:
        retry_at = _backoff(reply.attempts, now, None)
        record_reply_attempt_failed(
            reply.pk,
            error=failure_text(error, channel, attempts=reply.attempts),
            detail=str(error),
            now=now,
            retry_at=retry_at,
        )
        return ReplyStatus.APPROVED if retry_at else ReplyStatus.FAILED
    try:
        found = adapter.find_sent_reply(channel, outgoing(reply))
    except AdapterError:
        found = None
    if found is not None:
        record_reply_sent(
            reply.pk, platform_id=found.platform_id, permalink=found.permalink, now=now
        )
        return ReplyStatus.SENT
    record_reply_attempt_failed(
        reply.pk,
        error=_("Outcome unknown: the platform may have posted it. Check before retrying."),
        detail=str(error),
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
        _settle_unknown(
            reply,
            now=now,
            error=OutcomeUnknown(_("The worker stopped during the platform call.")),
        )
    due = list(
        Reply.objects.due_for_delivery(now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for reply_id in due:
        delay_safely(SEND_REPLY_TASK, reply_id)
    return len(due) + len(stale)
