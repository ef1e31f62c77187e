"""The plumbing every dashboard figure shares: the filters, the one-snapshot report session,
the SQL fragments for channel and stage filters, the report facts (histograms and exact
percentiles from one bucket's rows) and the duration expressions."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction

from tickets.choices import (
    OPEN_STATES,
    STAGE_OF_STATE,
    TicketState,
    states_of_stage,
)
from tickets.facts import ALL_CHANNELS, BUCKETS_PER_DOUBLING, LIVE_DAY, Metric
from tickets.sla import DESK_TIME_ZONE

LIVE_LIST_LIMIT = 10  # rows of the at-risk, live-breach and follow-up lists on the page
EXPORT_LIST_LIMIT = 10_000  # rows of the same lists in a CSV export; the totals are exact
DEFAULT_RANGE_DAYS = 30
# Closed states that count as a resolution for process duration and depth.
RESOLUTION_STATES = (TicketState.RESOLVED, TicketState.UNSOLVABLE)


@dataclass(frozen=True)
class DashboardFilters:
    """What the team lead asked for: a range of desk days, optionally one channel and one
    stage. Built by `tickets.forms_dashboard.DashboardFilterForm`."""

    date_from: date
    date_to: date
    channel_id: int | None = None
    stage: str | None = None

    @property
    def start_at(self) -> datetime:
        return desk_midnight(self.date_from)

    @property
    def end_at(self) -> datetime:
        """Exclusive end: midnight after `date_to`."""
        return desk_midnight(self.date_to + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [
            self.date_from + timedelta(days=offset)
            for offset in range((self.date_to - self.date_from).days + 1)
        ]


def desk_midnight(day: date) -> datetime:
    """00:00 desk time of `day`, in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=DESK_TIME_ZONE).astimezone(UTC)


def default_filters(now: datetime) -> DashboardFilters:
    """The last 30 desk days, today included."""
    today = now.astimezone(DESK_TIME_ZONE).date()
    return DashboardFilters(date_from=today - timedelta(days=DEFAULT_RANGE_DAYS - 1), date_to=today)


@contextmanager
def report_session() -> Iterator[None]:
    """One transaction for a whole dashboard: one snapshot for all figures (REPEATABLE READ,
    so the backlog, the per-agent load and the live counts agree even while the desk works),
    and settings for large aggregates (no JIT compilation, whose start-up costs more than it
    saves on these queries; sort memory so a bucket sorts in RAM). Inside an outer
    transaction (tests) the isolation is that transaction's."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if outermost:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        yield


# --------------------------------------------------------------------------- SQL plumbing


def base_params(filters: DashboardFilters, now: datetime) -> dict[str, Any]:
    return {
        "tz": str(DESK_TIME_ZONE),
        "start": filters.start_at,
        "end": filters.end_at,
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "channel": filters.channel_id,
        "now": now,
        "open_states": list(OPEN_STATES),
        "live_day": LIVE_DAY,
    }


def channel_sql(ticket_alias: str, filters: DashboardFilters) -> str:
    return f" AND {ticket_alias}.channel_id = %(channel)s" if filters.channel_id else ""


def stage_sql(column: str, filters: DashboardFilters, params: dict[str, Any]) -> str:
    """The stage filter on a column holding a ticket state."""
    if not filters.stage:
        return ""
    params["stage_states"] = list(states_of_stage(filters.stage))
    return f" AND {column} = ANY(%(stage_states)s)"


def stage_case(column: str, params: dict[str, Any]) -> str:
    """SQL CASE giving the stage of the state in `column` (NULL for closed states), built
    from STAGE_OF_STATE so the mapping is written once."""
    branches = []
    for index, (state, stage) in enumerate(STAGE_OF_STATE.items()):
        params[f"stage_state_{index}"] = str(state)
        params[f"stage_value_{index}"] = str(stage)
        branches.append(f"WHEN %(stage_state_{index})s THEN %(stage_value_{index})s")
    return f"(CASE {column} {' '.join(branches)} END)"


def ratio_of(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


# --------------------------------------------------------------------------- report facts


def fact_channel_sql(filters: DashboardFilters, alias: str = "f") -> str:
    """Facts of the chosen channel, or those written for all channels (never both)."""
    return f" AND {alias}.channel_id = {filters.channel_id or ALL_CHANNELS:d}"


def open_facts_sql(filters: DashboardFilters, params: dict[str, Any]) -> str:
    """The live facts of open tickets (kind = state, person = assignee), filtered."""
    return (
        f"tickets_reportfact f WHERE f.metric = '{Metric.OPEN.value}' AND f.day = %(live_day)s"
        f"{fact_channel_sql(filters)}{stage_sql('f.kind', filters, params)}"
    )


def facts_in_range_sql(metric: str, filters: DashboardFilters) -> str:
    """The facts of one metric on the desk days of the range, for the chosen channel."""
    return (
        f"tickets_reportfact f WHERE f.metric = '{Metric(metric).value}'"
        f" AND f.day BETWEEN %(date_from)s AND %(date_to)s{fact_channel_sql(filters)}"
    )


def ticket_channel_sql(filters: DashboardFilters, alias: str) -> str:
    """The channel filter on a row that names its ticket (`<alias>.ticket_id`)."""
    return (
        " AND EXISTS (SELECT 1 FROM tickets_ticket t"
        f" WHERE t.id = {alias}.ticket_id AND t.channel_id = %(channel)s)"
        if filters.channel_id
        else ""
    )


def histogram_sql(metric: str, group: str, filters: DashboardFilters) -> str:
    """Rows (grp, bucket, n) of a metric's facts in the range: how many values of each group
    fall in each duration bucket."""
    return f"""
        SELECT {group} AS grp, f.value AS bucket, sum(f.n)::bigint AS n
        FROM {facts_in_range_sql(metric, filters)}
        GROUP BY 1, 2 HAVING sum(f.n) > 0
    """


def percentiles_sql(histogram: str, fetch: str | None = None) -> str:
    """Exact `percentile_cont` of each group for the fractions %(fractions)s, as rows (grp,
    total, fraction, value), from a histogram of rows (grp, bucket, n).

    percentile_cont(p) over n sorted values is v[lo] + (v[lo + 1] − v[lo]) × (r − lo) with
    r = p × (n − 1), lo = floor(r). The cumulative counts of the histogram say in which
    bucket the value of rank lo lies and how many values of that bucket come before it;
    `fetch` (a query of one column `value` over the source rows of group `l.grp` in bucket
    `l.bucket`, in the range) then reads v[lo] and v[lo + 1]: only one bucket's rows are
    sorted, never the range. When v[lo] is the last of its bucket, v[lo + 1] is the least of
    the next bucket. Without `fetch` the bucket is the value itself (small integers:
    transitions, hand-overs)."""
    if fetch:
        next_fetch = fetch.replace("l.bucket", "p.next_bucket").replace("l.grp", "p.grp")
        pair = f"""(SELECT array_agg(s.value ORDER BY s.value) FROM (
                     SELECT s.value FROM ({fetch}) s ORDER BY s.value OFFSET l.skip LIMIT 2
                   ) s)"""
        following = f"(SELECT min(s.value) FROM ({next_fetch}) s)"
    else:
        pair = "ARRAY[l.bucket, CASE WHEN l.skip + 1 < l.n THEN l.bucket END]"
        following = "p.next_bucket"
    return f"""
        WITH histogram AS ({histogram}
        ), cumulative AS (
            SELECT grp, bucket, n,
                   (sum(n) OVER (PARTITION BY grp ORDER BY bucket))::bigint - n AS before,
                   (sum(n) OVER (PARTITION BY grp))::bigint AS total,
                   lead(bucket) OVER (PARTITION BY grp ORDER BY bucket) AS next_bucket
            FROM histogram
        ), wanted AS (
            SELECT g.grp, g.total, p.fraction, p.fraction * (g.total - 1) AS position,
                   floor(p.fraction * (g.total - 1))::bigint AS rank
            FROM (SELECT DISTINCT grp, total FROM cumulative) g
            CROSS JOIN unnest(%(fractions)s::float8[]) AS p(fraction)
        ), located AS (
            SELECT DISTINCT w.grp, w.rank, c.bucket, c.next_bucket, c.n, w.rank - c.before AS skip
            FROM wanted w
            JOIN cumulative c
              ON c.grp = w.grp AND w.rank >= c.before AND w.rank < c.before + c.n
        ), pairs AS MATERIALIZED (  -- each bucket read once, however often its pair is used
            SELECT l.*, {pair}::float8[] AS pair FROM located l
        ), valued AS (
            SELECT p.grp, p.rank, p.pair[1] AS low,
                   CASE WHEN p.pair[2] IS NOT NULL THEN p.pair[2]
                        WHEN p.next_bucket IS NOT NULL THEN {following}::float8
                   END AS high
            FROM pairs p
        )
        SELECT w.grp, w.total, w.fraction,
               CASE WHEN w.position = w.rank THEN v.low
                    ELSE v.low + (v.high - v.low) * (w.position - w.rank) END AS value
        FROM wanted w
        JOIN valued v ON v.grp = w.grp AND v.rank = w.rank
    """


def by_fraction(rows: list[dict[str, Any]]) -> dict[Any, dict[Any, Any]]:
    """{group: {"total": n, fraction: value, ...}} from `percentiles_sql` rows."""
    groups: dict[Any, dict[Any, Any]] = {}
    for row in rows:
        entry = groups.setdefault(row["grp"], {"total": row["total"]})
        entry[row["fraction"]] = row["value"]
    return groups


# Durations read from the source rows of one bucket (see `percentiles_sql`); each fetch
# matches an expression index of migration 0006, which hands over exactly those rows.
RECEIPT = "date_part('epoch', c.stopped_at - c.started_at)"
PERCEIVED = "greatest(date_part('epoch', c.stopped_at - c.posted_at), 0)"
RESOLUTION = "date_part('epoch', t.resolved_at - t.opened_at)"
ANSWER = "date_part('epoch', r.answered_at - r.created_at)"


def bucket_sql(value: str, metric: str) -> str:
    return f"sd_duration_bucket({value}, {BUCKETS_PER_DOUBLING[Metric(metric)]})"


def clock_fetch(
    value: str, metric: str, group_condition: str, extra: str, filters: DashboardFilters
) -> str:
    return f"""
        SELECT {value} AS value FROM tickets_slaclock c
        WHERE {group_condition} AND {bucket_sql(value, metric)} = l.bucket
          AND c.started_at >= %(start)s AND c.started_at < %(end)s
          AND c.stopped_at IS NOT NULL AND NOT c.is_cancelled{extra}
          {ticket_channel_sql(filters, "c")}
    """
