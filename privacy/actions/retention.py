"""Retention: what the desk keeps, and for how long (issue 15). Policies are rows (a
superuser edits them in the admin); beat runs `apply_retention` hourly. Each policy is
applied in batches, one transaction per batch, so no sweep holds a huge transaction; the dry
run counts what would go and changes nothing.

- closed_tickets: the personal data of tickets resolved or unsolvable for longer than the
  policy (their mentions, revisions and texts become tombstones; tickets, clocks and report
  counts stay, as in an erasure).
- dismissed_spam: the same for tickets dismissed as spam.
- access_audit: audit entries older than the policy are deleted.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction

from privacy.actions.erasure import TOMBSTONE, tombstone_mentions, tombstone_ticket_texts
from privacy.choices import RetentionKind
from privacy.models import AccessLog, RetentionPolicy
from tickets.choices import DismissReason, TicketState
from tickets.models import Ticket

TICKET_BATCH = 200
AUDIT_BATCH = 5000


@dataclass
class RetentionReport:
    dry_run: bool
    # kind → rows (tickets, or audit entries) that went, or would go
    due: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, table: str, rows: int) -> None:
        if rows > 0:
            self.counts[table] = self.counts.get(table, 0) + rows


def due_tickets(kind: str, cutoff: datetime):  # type: ignore[no-untyped-def]
    """Tickets whose personal data the policy `kind` removes, not yet removed."""
    tickets = Ticket.objects.exclude(preview=TOMBSTONE)
    if kind == RetentionKind.CLOSED_TICKETS:
        return tickets.filter(
            state__in=[TicketState.RESOLVED, TicketState.UNSOLVABLE], state_changed_at__lt=cutoff
        )
    return tickets.filter(
        state=TicketState.DISMISSED, dismiss_reason=DismissReason.SPAM, state_changed_at__lt=cutoff
    )


def apply_retention(
    *, now: datetime, dry_run: bool = False, max_batches: int | None = None
) -> RetentionReport:
    report = RetentionReport(dry_run=dry_run)
    for policy in RetentionPolicy.objects.filter(is_active=True).order_by("kind"):
        cutoff = now - timedelta(days=policy.keep_days)
        if policy.kind == RetentionKind.ACCESS_AUDIT:
            old = AccessLog.objects.filter(at__lt=cutoff)
            if dry_run:
                report.due[policy.kind] = old.count()
                continue
            report.due[policy.kind] = 0
            while max_batches is None or report.batches < max_batches:
                with transaction.atomic():
                    ids = list(old.order_by("id").values_list("id", flat=True)[:AUDIT_BATCH])
                    if not ids:
                        break
                    deleted, _rows = AccessLog.objects.filter(id__in=ids).delete()
                report.batches += 1
                report.due[policy.kind] += deleted
                report.count("privacy_accesslog", deleted)
            continue
        tickets = due_tickets(policy.kind, cutoff)
        if dry_run:
            report.due[policy.kind] = tickets.count()
            continue
        report.due[policy.kind] = 0
        while max_batches is None or report.batches < max_batches:
            ids = list(tickets.order_by("id").values_list("id", flat=True)[:TICKET_BATCH])
            if not ids:
                break
            _erase_tickets(ids, report)
            report.batches += 1
            report.due[policy.kind] += len(ids)
    return report


def _erase_tickets(ticket_ids: list[int], report: RetentionReport) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT id, channel_id, external_id FROM monitoring_mention
                    WHERE ticket_id = ANY(%s) AND NOT raw ? 'erased' AND NOT is_own_account
                    ORDER BY id FOR UPDATE""",
                [ticket_ids],
            )
            rows = cursor.fetchall()
        if rows:
            tombstone_mentions(rows, erasure_id=None, count=report.count)
        tombstone_ticket_texts(ticket_ids, count=report.count)
