"""Indexes found by the benchmark suite (bench/), each named for the query it serves.

Built CONCURRENTLY: the tables stay writable while they are built. Written as SQL like
those of 0004 (partial, covering); the models' state does not change with them.
"""

from django.db import migrations

OPEN_STATES_SQL = (
    "'new', 'support', 'in_progress', 'waiting_customer', 'resubmission', 'waiting_department'"
)


INDEXES = [
    # Support queue, "My tickets" (tickets/views/queue.py): an agent's open tickets in the
    # lists' order (deadline, none last, then arrival), read in index order up to the page's
    # end. Without it 10,466 open tickets of one agent were sorted for every page (240 ms).
    (
        "ticket_assignee_queue",
        f"tickets_ticket (assignee_id, sla_due_at, opened_at) WHERE state IN ({OPEN_STATES_SQL})",
    ),
    # reports.agent_figures(): first responses per person in a range, already grouped by
    # person (no sort of a month of clocks by person first: 450 -> 140 ms over 1M tickets).
    (
        "slaclock_first_response_by",
        "tickets_slaclock (stopped_by_id, started_at) INCLUDE (stopped_at)"
        " WHERE kind = 'first_response' AND stopped_by_id IS NOT NULL AND NOT is_cancelled",
    ),
    # reports.response_times(): stopped clocks per kind in a range, in kind order.
    (
        "slaclock_stopped_kind_started",
        "tickets_slaclock (kind, started_at) INCLUDE (stopped_at, posted_at)"
        " WHERE stopped_at IS NOT NULL AND NOT is_cancelled",
    ),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0004_dashboard_metrics_and_indexes")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}",
            reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )
        for name, definition in INDEXES
    ]
