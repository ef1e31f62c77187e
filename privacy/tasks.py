"""Celery tasks of the privacy app (enqueued by name; beat: servicedesk/settings.py)."""

from typing import Any

from celery import shared_task
from django.utils import timezone

from privacy.actions.erasure import resume_erasures
from privacy.actions.retention import apply_retention


@shared_task(name="privacy.tasks.apply_retention_task")
def apply_retention_task() -> dict[str, Any]:
    report = apply_retention(now=timezone.now())
    return {"due": report.due, "batches": report.batches, "counts": report.counts}


@shared_task(name="privacy.tasks.resume_erasures_task")
def resume_erasures_task() -> int:
    """Finish every confirmed erasure that a dead process left running."""
    return resume_erasures(now=timezone.now())
