"""Celery tasks of the monitoring app: thin, by id, safe to run twice."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from monitoring import actions
from monitoring.models import Channel


@shared_task
def poll_due_channels_task() -> int:
    """Every POLL_DISPATCH_SECONDS (beat entry "monitoring.poll-due-channels"): lease each
    channel whose next poll has come and enqueue its poll. Overlapping runs are safe: the
    lease is a compare-and-set, so each due channel is dispatched once."""
    return len(actions.dispatch_due_polls(now=timezone.now()))


@shared_task
def poll_channel_task(channel_id: int, lease_until: str | None = None) -> str:
    """Poll one channel under the lease the dispatcher took (`lease_until`, ISO 8601).
    Re-running stores nothing twice: the intake is idempotent, the cursor a compare-and-set,
    and a poll whose lease was lost does nothing."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return "skipped"
    lease = datetime.fromisoformat(lease_until) if lease_until else None
    return actions.poll_channel(channel, now=timezone.now(), lease_until=lease).status
