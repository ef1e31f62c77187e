"""Report facts: the daily counts behind the team-lead dashboard (`ReportFact`).

PostgreSQL writes them with triggers in the transaction that changes the source rows
(migration 0006 holds the SQL: which facts a clock, ticket, reply or mention stands for, the
triggers, the rebuild and the drift check). This module names the metrics and runs the
maintenance: `compact()` (beat, every minute) merges the rows the triggers added into one
row per key; `rebuild()` computes every fact again from the source tables (after a load with
triggers off, or a repair); `drift()` lists the keys whose stored sum is not what the source
rows say (empty when the facts are exact).
"""

from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import TextChoices

from servicedesk.sql import dict_rows

LIVE_DAY = date(2000, 1, 1)  # the day of facts about the present (open tickets)
ALL_CHANNELS = 0  # every fact is also written with this channel: the sum over all channels
COMPACT_LOCK = 0x5D_FAC7  # advisory lock: one compaction at a time (others skip)


class Metric(TextChoices):
    """What a fact counts; `kind`, `person_id`, `value` and `value2` as noted."""

    MET = "met"  # clock started that day, met (kind)
    BREACHED = "breached"  # clock started that day, breached (kind)
    RECEIPT = "receipt"  # stopped clock, bucket of stopped - started (kind, value)
    PERCEIVED = "perceived"  # stopped clock, bucket of stopped - posted, floored (kind, value)
    FIRST_RESPONSE_BY = "first_response_by"  # first response by person (person, value)
    RESOLUTION_TIME = "resolution_time"  # resolved that day, bucket of resolved - opened
    RESOLUTION_DEPTH = "resolution_depth"  # resolved that day (transitions, hand-overs)
    REPLIES_SENT = "replies_sent"  # replies sent that day (person = author)
    MENTIONS = "mentions"  # customer mentions received that day
    OPEN = "open"  # open ticket now, on LIVE_DAY (kind = state, person = assignee or 0)
    REQUESTS = "requests"  # department request sent that day (kind = status, person = dept.)
    ANSWERED = "answered"  # answered request (person = dept., value, value2 = 1 if in time)


# Duration buckets per doubling of the time, per metric (`sd_duration_bucket(seconds, n)` in
# migration 0006): finer where one group holds many values, so that a percentile sorts
# fewer rows of its bucket; coarser where there are many groups, so fewer fact rows.
BUCKETS_PER_DOUBLING = {
    Metric.RECEIPT: 16,
    Metric.PERCEIVED: 16,
    Metric.FIRST_RESPONSE_BY: 4,
    Metric.RESOLUTION_TIME: 8,
    Metric.ANSWERED: 8,
}


def compact() -> int:
    """Merge the rows the triggers added into the compacted row of their key; returns how
    many added rows were merged. Each added row is deleted by exactly one compaction and its
    count added once, so sums never change; a second compaction running at the same time
    skips (advisory lock)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [COMPACT_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            """
            WITH added AS (
                DELETE FROM tickets_reportfact WHERE NOT compacted
                RETURNING day, channel_id, metric, kind, person_id, value, value2, n
            ), merged AS (
                INSERT INTO tickets_reportfact
                    (day, channel_id, metric, kind, person_id, value, value2, n, compacted)
                SELECT day, channel_id, metric, kind, person_id, value, value2, sum(n), true
                FROM added GROUP BY day, channel_id, metric, kind, person_id, value, value2
                ON CONFLICT (metric, day, channel_id, kind, person_id, value, value2)
                    WHERE compacted
                DO UPDATE SET n = tickets_reportfact.n + excluded.n
                RETURNING id, n
            )
            SELECT (SELECT count(*) FROM added),
                   (SELECT array_agg(id) FROM merged WHERE n = 0)
            """
        )
        merged, emptied = cursor.fetchone()
        if emptied:  # keys whose count came back to zero (a ticket left a state) are dropped
            cursor.execute("DELETE FROM tickets_reportfact WHERE id = ANY(%s)", [emptied])
        return merged


def rebuild() -> int:
    """Compute every fact again from the source tables; returns the rows written. Writers
    that change counted data wait until it commits (minutes over millions of tickets)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT sd_rebuild_report_facts()")
        return cursor.fetchone()[0]


def drift(limit: int = 100) -> list[dict[str, Any]]:
    """Keys whose stored sum differs from the facts of the source rows (at most `limit`)."""
    return dict_rows(
        "SELECT * FROM sd_report_facts_drift() ORDER BY day, metric, channel_id LIMIT %s", [limit]
    )
