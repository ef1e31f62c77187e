"""Enqueue Celery work by the task's registered name, after commit, tolerating a broker that
is down.

Domain modules never import a tasks module: they name the task
(`enqueue_on_commit("tickets.tasks.send_reply_task", reply.pk)`) and this helper looks it up
in the Celery app, so the import graph stays free of cycles. A test checks that every name
enqueued anywhere is a registered task.

The database is the source of truth: every task enqueued here has a periodic sweep that
finds the same work again, so a lost message delays it but never loses it.
"""

import logging
import threading
from typing import Any

from django.db import transaction

from servicedesk.celery import app

logger = logging.getLogger(__name__)


class UnknownTask(LookupError):
    """A task name that no tasks module registers: a programming error, never swallowed."""


_import_lock = threading.Lock()


def task_named(name: str) -> Any:
    """The registered task `name`. The tasks modules are imported on first use (the web
    process never starts a worker, which is what imports them otherwise), by one thread at a
    time: Celery's autodiscovery returns at once, having imported nothing, to a thread that
    calls it while another is in it, so the first requests of a new web process would have
    found no task (UnknownTask, a 500)."""
    task = app.tasks.get(name)
    if task is None:
        with _import_lock:
            task = app.tasks.get(name)
            if task is None:
                app.loader.import_default_modules()
                task = app.tasks.get(name)
    if task is None:
        raise UnknownTask(name)
    return task


def delay_safely(name: str, *args: Any) -> None:
    """Enqueue task `name` now; a broker that is down is logged, not raised."""
    task = task_named(name)
    try:
        task.delay(*args)
    except Exception:  # the broker is down: the sweep behind this task will pick it up
        logger.warning("could not enqueue %s%r; its sweep will catch up", name, args)


def enqueue_on_commit(name: str, *args: Any) -> None:
    """Enqueue task `name` once the current transaction commits (never if it rolls back)."""
    task_named(name)  # an unknown name fails here, in the action, not after the commit
    transaction.on_commit(lambda: delay_safely(name, *args))
