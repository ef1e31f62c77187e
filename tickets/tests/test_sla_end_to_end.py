"""End to end: a real Celery worker and a real beat on Redis enforce a first-response
target of a few seconds. The latency bound belongs to bench/sla_sweep.py; this test waits
with a generous ceiling."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from tickets.choices import NotificationKind, SlaKind
from tickets.intake import receive_mention
from tickets.models import Notification, SlaBreach, SlaPolicy
from tickets.tests.factories import ChannelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

CEILING_SECONDS = 60


@pytest.fixture
def beat(tmp_path: Path) -> Any:
    """`celery beat` as its own process, ticking the SLA sweep every second."""
    env = {
        **os.environ,
        "SLA_SWEEP_SECONDS": "1",
        "POLL_DISPATCH_SECONDS": "3600",
        "REDIS_URL": django_settings.REDIS_URL,
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.terminate()
    process.wait(timeout=20)


def test_an_unanswered_mention_is_breached_and_escalated_by_worker_and_beat(
    celery_worker: Any, beat: Any, team_lead: Any
) -> None:
    SlaPolicy.objects.filter(kind=SlaKind.FIRST_RESPONSE, department=None).update(target_seconds=3)
    channel = ChannelFactory(slug="twitter", platform=Platform.TWITTER)
    mention = RawMention(
        external_id="e2e-1",
        author=RawAuthor(handle="@erika"),
        text="Hallo? Niemand da?",
        created_at=timezone.now() - timedelta(seconds=1),
    )

    result = receive_mention(channel, mention, now=timezone.now())

    escalated = Notification.objects.filter(
        user=team_lead, kind=NotificationKind.SLA_BREACH, ticket_id=result.ticket_id
    )
    deadline = time.monotonic() + CEILING_SECONDS
    while not escalated.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    breach = SlaBreach.objects.select_related("clock").get(clock__ticket_id=result.ticket_id)
    assert breach.due_at == breach.clock.due_at == breach.clock.started_at + timedelta(seconds=3)
    assert breach.detected_at > breach.due_at
    assert escalated.count() == 1
