"""Enqueue Celery work after commit, tolerating a broker that is down.

The database is the source of truth: every task enqueued here has a periodic sweep that
finds the same work again, so a lost message delays it but never loses it.
"""

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def delay_safely(task: Any, *args: Any) -> None:
    try:
        task.delay(*args)
    except Exception:  # the broker is down: the sweep behind this task will pick it up
        logger.warning("could not enqueue %s%r; its sweep will catch up", task.name, args)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Run `task.delay(*args)` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: delay_safely(task, *args))
