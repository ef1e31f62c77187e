"""Celery tasks of triage (enqueued by name through servicedesk.queue)."""

from celery import shared_task
from django.utils import timezone

from triage import actions


@shared_task(name="triage.tasks.sweep_missing_suggestions_task")
def sweep_missing_suggestions_task() -> int:
    return actions.sweep_missing_suggestions(now=timezone.now())


@shared_task(name="triage.tasks.retrain_task")
def retrain_task(trigger: str = "labels") -> int | None:
    """After N new labels (rechecked here, so a burst of enqueues trains once) or nightly."""
    now = timezone.now()
    if trigger == "labels":
        run = actions.training.retrain_if_due(now=now)
    else:
        run = actions.training.retrain(now=now, trigger=trigger)
    return run.pk if run else None
