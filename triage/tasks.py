"""Celery tasks of triage (enqueued by name through servicedesk.queue)."""

from celery import shared_task
from django.utils import timezone

from triage import actions


@shared_task(name="triage.tasks.sweep_missing_suggestions_task")
def sweep_missing_suggestions_task() -> int:
    return actions.sweep_missing_suggestions(now=timezone.now())
