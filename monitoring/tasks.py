"""Celery tasks of the monitoring app: thin, by id, safe to run twice. (The poll of one
channel, `monitoring.tasks.poll_channel_task`, is registered by tickets.tasks: storing what
a poll fetched is the intake's.)"""

from celery import shared_task
from django.utils import timezone

from monitoring import actions


@shared_task
def poll_due_channels_task() -> int:
    """Every POLL_DISPATCH_SECONDS (beat entry "monitoring.poll-due-channels"): lease each
    channel whose next poll has come and enqueue its poll. Overlapping runs are safe: the
    lease is a compare-and-set, so each due channel is dispatched once."""
    return len(actions.dispatch_due_polls(now=timezone.now()))
