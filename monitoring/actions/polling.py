"""Polling bookkeeping: leases, cursors and health of the channels that are polled.

The dispatcher claims each due channel with a lease (compare-and-set on poll_lease_until),
so at most one poll of a channel runs at a time. The poll itself (tickets.polling) fetches
through the adapter outside any transaction, then stores the mentions and advances the cursor
here (`lock_cursor`, `record_poll_success`) in one transaction; a failure is recorded with
`record_poll_failure`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from monitoring.adapters.base import AdapterError, AdapterUnavailable, FetchResult
from monitoring.models import Channel
from servicedesk.queue import delay_safely

logger = logging.getLogger(__name__)

POLL_CHANNEL_TASK = "monitoring.tasks.poll_channel_task"
POLL_LEASE_SECONDS = 300  # longer than any poll takes; a dead worker's lease expires after it


POLL_DISPATCH_BATCH_SIZE = 200  # channels claimed per dispatcher run


MAX_POLL_BACKOFF_SECONDS = 3600  # exponential backoff after failures stops growing here


UNHEALTHY_AFTER_FAILURES = 3  # consecutive transient failures before the channel shows red


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did: `status` is "polled", "skipped" (not due or leased by another),
    "conflict" (another poll moved the cursor first), "unavailable", "unauthorized" or
    "invalid"."""

    status: str
    created: int = 0
    duplicates: int = 0


def claim_poll_lease(channel: Channel, *, now: datetime) -> datetime | None:
    """Lease `channel` for one poll if it is due and nobody holds a lease (compare-and-set
    in one UPDATE: of two dispatchers only one gets it). Returns the lease's end or None."""
    lease_until = now + timedelta(seconds=POLL_LEASE_SECONDS)
    claimed = (
        Channel.objects.due_for_poll(now).filter(pk=channel.pk).update(poll_lease_until=lease_until)
    )
    return lease_until if claimed else None


def dispatch_due_polls(*, now: datetime) -> list[int]:
    """Lease every channel due at `now` and enqueue one poll task for each. A channel whose
    task is lost (broker down) is due again once its lease has expired."""
    channel_ids = list(
        Channel.objects.due_for_poll(now)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:POLL_DISPATCH_BATCH_SIZE]
    )
    dispatched = []
    for channel_id in channel_ids:
        lease_until = claim_poll_lease(Channel(pk=channel_id), now=now)
        if lease_until is not None:
            delay_safely(POLL_CHANNEL_TASK, channel_id, lease_until.isoformat())
            dispatched.append(channel_id)
    return dispatched


def record_poll_failure(
    channel: Channel,
    error: AdapterError,
    *,
    lease_until: datetime,
    now: datetime,
    stop: bool = False,
) -> None:
    """Health after a failed poll; releases the lease. The error text is the adapter's,
    which never contains credentials."""
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        if locked.poll_lease_until != lease_until:
            return
        failures = locked.consecutive_failures + 1
        if stop:
            next_poll_at = None
        elif isinstance(error, AdapterUnavailable) and error.retry_after is not None:
            next_poll_at = now + timedelta(seconds=error.retry_after)
        else:
            backoff = locked.poll_interval_seconds * 2 ** min(failures, 20)
            next_poll_at = now + timedelta(seconds=min(backoff, MAX_POLL_BACKOFF_SECONDS))
        locked.consecutive_failures = failures
        locked.last_polled_at = now
        locked.last_error = str(error)[:1000]
        locked.last_error_at = now
        locked.is_healthy = not stop and failures < UNHEALTHY_AFTER_FAILURES
        locked.next_poll_at = next_poll_at
        locked.poll_lease_until = None
        locked.save(
            update_fields=[
                "consecutive_failures",
                "last_polled_at",
                "last_error",
                "last_error_at",
                "is_healthy",
                "next_poll_at",
                "poll_lease_until",
            ]
        )
    logger.warning(
        "poll of channel %s failed (%s); next poll at %s",
        channel.pk,
        type(error).__name__,
        next_poll_at.isoformat() if next_poll_at else "never (until the channel is changed)",
    )


def finish_poll(
    channel: Channel, *, lease_until: datetime, now: datetime, next_poll_at: datetime | None
) -> None:
    """Release the lease of a poll that fetched nothing (the adapter cannot fetch)."""
    Channel.objects.filter(pk=channel.pk, poll_lease_until=lease_until).update(
        poll_lease_until=None, next_poll_at=next_poll_at, last_polled_at=now
    )


@transaction.atomic
def resume_polling(channel: Channel, *, now: datetime) -> Channel:
    """Poll the channel from `now` on: after it was created, or after its credentials or URL
    changed (a 401/403 stopped it). Clears the failure count; health shows at the next poll."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    channel.next_poll_at = now
    channel.consecutive_failures = 0
    channel.poll_lease_until = None
    channel.save(update_fields=["next_poll_at", "consecutive_failures", "poll_lease_until"])
    return channel


def leased_channel(channel: Channel, *, lease_until: datetime) -> Channel | None:
    """The channel freshly read if it still holds the lease `lease_until`; None if the lease
    expired and another poll took over."""
    channel = Channel.objects.get(pk=channel.pk)
    return channel if channel.poll_lease_until == lease_until else None


class CursorMoved(Exception):
    """Another poll advanced the cursor (or took the lease) first: roll this poll back."""


def lock_cursor(channel: Channel, *, old_cursor: str | None, lease_until: datetime) -> Channel:
    """Lock the channel row for storing a poll's result. Compare-and-set: only the poll that
    read `old_cursor` under `lease_until` may advance it (CursorMoved otherwise). Call inside
    the transaction that stores the poll's mentions."""
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    if (locked.cursor or None) != old_cursor or locked.poll_lease_until != lease_until:
        raise CursorMoved()
    return locked


def record_poll_success(locked: Channel, result: FetchResult, *, now: datetime) -> None:
    """The new cursor and the channel's health after a successful poll, in the transaction
    that stored its mentions (`locked` from `lock_cursor`); releases the lease."""
    locked.cursor = result.next_cursor or ""
    locked.last_polled_at = now
    locked.last_success_at = now
    locked.last_error = ""
    locked.is_healthy = True
    locked.consecutive_failures = 0
    if result.mentions:
        newest = max(mention.created_at for mention in result.mentions)
        locked.lag_seconds = max((now - newest).total_seconds(), 0.0)
    locked.next_poll_at = now + timedelta(seconds=locked.poll_interval_seconds)
    locked.poll_lease_until = None
    locked.save(
        update_fields=[
            "cursor",
            "last_polled_at",
            "last_success_at",
            "last_error",
            "is_healthy",
            "consecutive_failures",
            "lag_seconds",
            "next_poll_at",
            "poll_lease_until",
        ]
    )
