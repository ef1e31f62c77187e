"""Polling a channel: the poll-and-store step of every polled mention.

`poll_channel` runs under the lease the dispatcher took (monitoring.actions.polling). It
fetches through the channel's adapter outside any transaction (no row lock during the
HTTP call), then, in one transaction, stores the mentions through the intake and advances
the cursor (a compare-and-set on the old one) with the channel's health, so a worker killed
mid-poll loses nothing and stores nothing twice.
"""

import logging
from datetime import datetime

from django.db import transaction

from monitoring import actions as monitoring_actions
from monitoring.actions import CursorMoved, PollOutcome
from monitoring.adapters import adapter_for
from monitoring.adapters.base import AdapterError, AdapterUnauthorized, AdapterUnavailable
from monitoring.models import Channel
from tickets import intake

logger = logging.getLogger(__name__)


def poll_channel(
    channel: Channel, *, now: datetime, lease_until: datetime | None = None
) -> PollOutcome:
    """Fetch new mentions of `channel` and store them through the intake.

    Without `lease_until` the poll claims the channel's lease itself (and is "skipped" when
    the channel is not due or another poll holds it); with it, the poll runs only while the
    channel still holds that very lease. 429 polls again after Retry-After, other transient
    failures back off exponentially, 401/403 marks the channel unhealthy and stops its
    polling until its settings change (`monitoring.actions.resume_polling`).
    """
    if lease_until is None:
        lease_until = monitoring_actions.claim_poll_lease(channel, now=now)
        if lease_until is None:
            return PollOutcome("skipped")
    leased = monitoring_actions.leased_channel(channel, lease_until=lease_until)
    if leased is None:
        return PollOutcome("skipped")  # the lease expired and another poll took over
    adapter = adapter_for(leased)
    if "fetch" not in adapter.capabilities:
        monitoring_actions.finish_poll(leased, lease_until=lease_until, now=now, next_poll_at=None)
        return PollOutcome("skipped")
    old_cursor = leased.cursor or None
    try:
        result = adapter.fetch(leased, old_cursor)
    except AdapterUnavailable as error:
        monitoring_actions.record_poll_failure(leased, error, lease_until=lease_until, now=now)
        return PollOutcome("unavailable")
    except AdapterUnauthorized as error:
        monitoring_actions.record_poll_failure(
            leased, error, lease_until=lease_until, now=now, stop=True
        )
        return PollOutcome("unauthorized")
    except AdapterError as error:
        logger.warning("poll of channel %s failed: %s", leased.pk, type(error).__name__)
        monitoring_actions.record_poll_failure(leased, error, lease_until=lease_until, now=now)
        return PollOutcome("invalid")
    try:
        with transaction.atomic():
            locked = monitoring_actions.lock_cursor(
                leased, old_cursor=old_cursor, lease_until=lease_until
            )
            results = intake.receive_mentions(locked, result.mentions, now=now)
            monitoring_actions.record_poll_success(locked, result, now=now)
    except CursorMoved:
        logger.info("poll of channel %s lost the race for its cursor", leased.pk)
        return PollOutcome("conflict")
    created = sum(1 for item in results if item.status == intake.CREATED)
    logger.info("channel %s polled: %s new, %s known", leased.pk, created, len(results) - created)
    return PollOutcome("polled", created=created, duplicates=len(results) - created)
