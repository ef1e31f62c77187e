"""Celery tasks of the tickets app: thin, by id, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from tickets import actions, facts, outbox


@shared_task
def enforce_sla_task() -> int:
    """Every SLA_SWEEP_SECONDS (beat entry "tickets.enforce-sla"). Overlapping runs are safe:
    warnings are claimed by compare-and-set, breaches by their unique clock."""
    recorded = actions.enforce_sla(now=timezone.now())
    actions.send_pending_notification_emails(now=timezone.now())
    return recorded


@shared_task
def send_reply_task(reply_id: int) -> None:
    """Deliver one approved reply. Safe twice: the reply is claimed (`sending`) first."""
    outbox.deliver_reply(reply_id, now=timezone.now())


@shared_task
def send_pending_replies_task() -> int:
    """Every 15 s (beat entry "tickets.send-pending-replies"): send what a lost task left
    behind (the broker was down at approval) and settle replies stuck in `sending`."""
    return outbox.send_pending_replies(now=timezone.now())


@shared_task
def send_notification_emails_task() -> int:
    """E-mail notifications that ask for it; each row is claimed once."""
    return actions.send_pending_notification_emails(now=timezone.now())


@shared_task
def mentions_joined_task(ticket_ids: list[int]) -> int:
    """Tell assignees that their tickets received new mentions (queued by the intake)."""
    return actions.notify_new_mentions(ticket_ids, now=timezone.now())


@shared_task
def compact_report_facts_task() -> int:
    """Every minute (beat entry "tickets.compact-report-facts"): merge the report-fact rows
    the triggers added into one row per key. Changes no figure; overlapping runs skip."""
    return facts.compact()
