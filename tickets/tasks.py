"""Celery tasks of the tickets app: thin, by id, safe to run twice. Domain modules enqueue
them by name through servicedesk.queue; nothing imports this module but Celery."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from monitoring.models import Channel
from tickets import actions, facts, outbox, polling
from tickets.actions import incidents


@shared_task
def enforce_sla_task() -> int:
    """Every SLA_SWEEP_SECONDS (beat entry "tickets.enforce-sla"): the SLA sweep, the
    Wiedervorlage sweep and the auto-close sweep, then the e-mails they asked for.
    Overlapping runs are safe: warnings are claimed by compare-and-set, breaches by their
    unique clock, transitions by their source state."""
    recorded = actions.run_sweeps(now=timezone.now())
    actions.send_pending_notification_emails(now=timezone.now())
    incidents.send_pending_incident_alerts(now=timezone.now())
    return recorded


@shared_task
def detect_incidents_task(mention_ids: list[int]) -> int:
    """New customer posts (queued by the intake) to the burst detector; opens and joins
    incidents. Safe twice: the detector's `observe` and `apply_burst_signals` are idempotent."""
    return len(incidents.detect_incidents(mention_ids, now=timezone.now()))


@shared_task
def sweep_unobserved_mentions_task() -> int:
    """Every minute (beat entry "tickets.sweep-unobserved-mentions"): the recent customer
    posts whose detect_incidents_task was lost go to the detector."""
    return incidents.sweep_unobserved_mentions(now=timezone.now())


@shared_task
def alert_crisis_contacts_task(incident_id: int) -> bool:
    """E-mail the crisis contacts about a new incident. Safe twice: claimed by compare-and-set
    (`alerted_at`); the SLA tick's sweep sends what a lost task left."""
    return incidents.alert_crisis_contacts(incident_id, now=timezone.now())


@shared_task
def send_reply_task(reply_id: int) -> None:
    """Deliver one approved reply. Safe twice: the reply is claimed (`sending`) first."""
    outbox.deliver_reply(reply_id, now=timezone.now())


@shared_task
def send_replies_task(reply_ids: list[int]) -> int:
    """Deliver a chunk of approved replies (an incident statement's, queued by
    tickets.actions.incidents). Safe twice: each reply is claimed (`sending`) first; the
    outbox sweep sends what a lost message left."""
    return outbox.deliver_replies(reply_ids, now=timezone.now())


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


@shared_task
def flag_expired_articles_task() -> int:
    """Hourly (beat entry "tickets.flag-expired-articles"): flag articles past their
    valid-until date and tell their owners. Re-running flags and notifies nobody twice (a
    flagged article is skipped; the notification's dedupe key names article and date)."""
    return actions.flag_expired_articles(now=timezone.now())


# Dispatched by monitoring's poll dispatcher (beat entry "monitoring.poll-due-channels") under
# its historical name; the poll-and-store step is tickets.polling's, so the task lives here.
@shared_task(name="monitoring.tasks.poll_channel_task")
def poll_channel_task(channel_id: int, lease_until: str | None = None) -> str:
    """Poll one channel under the lease the dispatcher took (`lease_until`, ISO 8601).
    Re-running stores nothing twice: the intake is idempotent, the cursor a compare-and-set,
    and a poll whose lease was lost does nothing."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return "skipped"
    lease = datetime.fromisoformat(lease_until) if lease_until else None
    return polling.poll_channel(channel, now=timezone.now(), lease_until=lease).status


@shared_task
def route_support_task() -> int:
    """A case joined the Support pool or capacity freed (issue 16): route waiting cases.
    Safe concurrently: routing locks agent rows and claims cases with SKIP LOCKED."""
    return actions.route_waiting(now=timezone.now())


@shared_task
def presence_changed_task(user_id: int | None) -> int:
    """Someone's presence changed (staffing.actions) or routing was switched on (None):
    give back what a departed agent holds untaken, then route."""
    return actions.presence_changed(user_id, now=timezone.now())
