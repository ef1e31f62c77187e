"""Retention: a dry run reports and changes nothing; the sweep goes in batches, keeps the
tickets and their figures, and leaves younger and open tickets alone."""

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from monitoring.models import Mention
from privacy.actions import retention
from privacy.actions.erasure import TOMBSTONE
from privacy.choices import RetentionKind
from privacy.models import AccessLog, RetentionPolicy
from tickets.choices import TicketState
from tickets.models import Ticket
from tickets.tests.factories import ReplyFactory, TicketFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db


def _closed_ticket(days_ago: int, state: str = TicketState.RESOLVED) -> Ticket:
    ticket = TicketFactory(preview="Paket MKQOLD")
    ReplyFactory(ticket=ticket, text="Hallo MKQOLD")
    ticket = force_state(ticket, state)
    Ticket.objects.filter(pk=ticket.pk).update(
        state_changed_at=timezone.now() - timedelta(days=days_ago)
    )
    return ticket


def test_dry_run_then_sweep_in_batches(monkeypatch: Any) -> None:
    RetentionPolicy.objects.update_or_create(
        kind=RetentionKind.CLOSED_TICKETS, defaults={"keep_days": 180, "is_active": True}
    )
    RetentionPolicy.objects.filter(kind=RetentionKind.ACCESS_AUDIT).update(keep_days=365)
    old = [_closed_ticket(200) for _ in range(5)]
    young = _closed_ticket(10)
    still_open = TicketFactory(preview="offen MKQOPEN")
    now = timezone.now()
    AccessLog.objects.bulk_create(
        [
            AccessLog(kind="ticket_page", ticket_id=1, at=now - timedelta(days=400 + n))
            for n in range(7)
        ]
        + [AccessLog(kind="ticket_page", ticket_id=1, at=now - timedelta(days=3))]
    )

    dry = retention.apply_retention(now=now, dry_run=True)
    assert dry.due[RetentionKind.CLOSED_TICKETS] == 5
    assert dry.due[RetentionKind.ACCESS_AUDIT] == 7
    assert Mention.objects.filter(text__contains="Paket").count() == 7  # nothing changed
    assert AccessLog.objects.count() == 8

    monkeypatch.setattr(retention, "TICKET_BATCH", 2)
    monkeypatch.setattr(retention, "AUDIT_BATCH", 3)
    done = retention.apply_retention(now=now)
    assert done.due[RetentionKind.CLOSED_TICKETS] == 5
    assert done.batches == 3 + 3  # 2 + 2 + 1 tickets, 3 + 3 + 1 audit entries
    for ticket in old:
        ticket.refresh_from_db()
        assert ticket.preview == TOMBSTONE and ticket.state == TicketState.RESOLVED
        assert set(ticket.mentions.values_list("text", flat=True)) == {TOMBSTONE}
        assert set(ticket.replies.values_list("text", flat=True)) == {TOMBSTONE}
    assert Ticket.objects.get(pk=young.pk).preview == "Paket MKQOLD"
    assert Ticket.objects.get(pk=still_open.pk).preview == "offen MKQOPEN"
    assert AccessLog.objects.count() == 1
    # Nothing is left to do: the next sweep changes nothing.
    again = retention.apply_retention(now=now)
    assert again.due == {
        RetentionKind.ACCESS_AUDIT: 0,
        RetentionKind.CLOSED_TICKETS: 0,
        RetentionKind.DISMISSED_SPAM: 0,
    }


def test_dry_run_command_and_page_report_without_changing(
    client: Any, privacy_officer: Any, agent: Any
) -> None:
    RetentionPolicy.objects.update_or_create(
        kind=RetentionKind.CLOSED_TICKETS, defaults={"keep_days": 180, "is_active": True}
    )
    old = [_closed_ticket(200) for _ in range(3)]
    out = StringIO()

    call_command("privacy_retention", "--dry-run", stdout=out)

    assert "closed_tickets (keep 180 days" in out.getvalue()
    assert "3 would go" in out.getvalue()
    assert all(Ticket.objects.get(pk=t.pk).preview == "Paket MKQOLD" for t in old)

    client.force_login(privacy_officer)
    page = client.get("/privacy/retention/")
    assert page.status_code == 200
    rows = {row["policy"].kind: row["due"] for row in page.context["policies"]}
    assert rows[RetentionKind.CLOSED_TICKETS] == 3
    assert all(Ticket.objects.get(pk=t.pk).preview == "Paket MKQOLD" for t in old)
    client.force_login(agent)
    assert client.get("/privacy/retention/").status_code == 403

    applied = StringIO()
    call_command("privacy_retention", stdout=applied)
    assert "3 went" in applied.getvalue()
    assert all(Ticket.objects.get(pk=t.pk).preview == TOMBSTONE for t in old)
