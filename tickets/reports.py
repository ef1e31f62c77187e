"""Dashboard aggregates (read-only): SLA compliance, response times, backlog, at-risk clocks
and live breaches, workload per agent, department answer times, overdue follow-ups, process
duration and depth, volume per channel and topics of unsolvable cases.

Every figure is computed in PostgreSQL; the functions only shape the rows. Each takes the
`DashboardFilters` and `now`, and runs one query whatever the number of tickets. Counts are
sums over the report facts (`tickets.facts`: daily counts that triggers write in the same
transaction as the change they count), so a month of clocks is never counted again per view.
Percentiles are exact `percentile_cont` values: the facts count the values per duration
bucket, which tells in which bucket a rank lies; only that bucket's source rows are read and
sorted (`_percentiles_sql`). The figures that depend on `now` (at-risk clocks, live
breaches, overdue follow-ups and department requests) read the few source rows concerned
through partial indexes.

Definitions a reader must know:

- Days are desk days (Europe/Berlin). The range runs from `date_from` 00:00 to the end of
  `date_to`. "Today" is the current desk day, "7 days" and "30 days" end with today.
- Compliance of a clock kind = met ÷ (met + breached) over the clocks *started* in a period
  that have an outcome (`SlaClockQuerySet.with_outcome`): breached if it has a breach row
  (the clock's `is_breached`, set by the breach's trigger), met if stopped, not cancelled
  and not breached.
- Response times are over stopped, not cancelled clocks started in the range: from the desk's
  receipt (`stopped_at − started_at`) and as the customer perceived it (`stopped_at −
  posted_at`, floored at 0; clocks without `posted_at` are left out of the latter).
- A hand-over is a transition whose from-state and to-state both belong to a stage
  (`STAGE_OF_STATE`) and the stages differ; transitions into or out of closed states (which
  have no stage) are not hand-overs (`tickets.choices.is_handover`, counted per ticket by
  the transition action).
- The channel filter applies to every figure; the stage filter applies to the live figures
  (backlog, at-risk clocks, live breaches, open tickets per agent, overdue follow-ups), since
  closed tickets and past periods have no current stage.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Window

from servicedesk.sql import dict_rows
from tickets.choices import (
    OPEN_STATES,
    STAGE_OF_STATE,
    DepartmentRequestStatus,
    SlaKind,
    TicketState,
    states_of_stage,
)
from tickets.facts import ALL_CHANNELS, BUCKETS_PER_DOUBLING, LIVE_DAY, Metric
from tickets.models import SlaClock, Ticket
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


def _base_params(filters: DashboardFilters, now: datetime) -> dict[str, Any]:
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


def _channel_sql(ticket_alias: str, filters: DashboardFilters) -> str:
    return f" AND {ticket_alias}.channel_id = %(channel)s" if filters.channel_id else ""


def _stage_sql(column: str, filters: DashboardFilters, params: dict[str, Any]) -> str:
    """The stage filter on a column holding a ticket state."""
    if not filters.stage:
        return ""
    params["stage_states"] = list(states_of_stage(filters.stage))
    return f" AND {column} = ANY(%(stage_states)s)"


def _stage_case(column: str, params: dict[str, Any]) -> str:
    """SQL CASE giving the stage of the state in `column` (NULL for closed states), built
    from STAGE_OF_STATE so the mapping is written once."""
    branches = []
    for index, (state, stage) in enumerate(STAGE_OF_STATE.items()):
        params[f"stage_state_{index}"] = str(state)
        params[f"stage_value_{index}"] = str(stage)
        branches.append(f"WHEN %(stage_state_{index})s THEN %(stage_value_{index})s")
    return f"(CASE {column} {' '.join(branches)} END)"


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


# --------------------------------------------------------------------------- report facts


def _fact_channel_sql(filters: DashboardFilters, alias: str = "f") -> str:
    """Facts of the chosen channel, or those written for all channels (never both)."""
    return f" AND {alias}.channel_id = {filters.channel_id or ALL_CHANNELS:d}"


def _open_facts_sql(filters: DashboardFilters, params: dict[str, Any]) -> str:
    """The live facts of open tickets (kind = state, person = assignee), filtered."""
    return (
        f"tickets_reportfact f WHERE f.metric = '{Metric.OPEN.value}' AND f.day = %(live_day)s"
        f"{_fact_channel_sql(filters)}{_stage_sql('f.kind', filters, params)}"
    )


def _facts_in_range_sql(metric: str, filters: DashboardFilters) -> str:
    """The facts of one metric on the desk days of the range, for the chosen channel."""
    return (
        f"tickets_reportfact f WHERE f.metric = '{Metric(metric).value}'"
        f" AND f.day BETWEEN %(date_from)s AND %(date_to)s{_fact_channel_sql(filters)}"
    )


def _ticket_channel_sql(filters: DashboardFilters, alias: str) -> str:
    """The channel filter on a row that names its ticket (`<alias>.ticket_id`)."""
    return (
        " AND EXISTS (SELECT 1 FROM tickets_ticket t"
        f" WHERE t.id = {alias}.ticket_id AND t.channel_id = %(channel)s)"
        if filters.channel_id
        else ""
    )


def _histogram_sql(metric: str, group: str, filters: DashboardFilters) -> str:
    """Rows (grp, bucket, n) of a metric's facts in the range: how many values of each group
    fall in each duration bucket."""
    return f"""
        SELECT {group} AS grp, f.value AS bucket, sum(f.n)::bigint AS n
        FROM {_facts_in_range_sql(metric, filters)}
        GROUP BY 1, 2 HAVING sum(f.n) > 0
    """


def _percentiles_sql(histogram: str, fetch: str | None = None) -> str:
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


def _by_fraction(rows: list[dict[str, Any]]) -> dict[Any, dict[Any, Any]]:
    """{group: {"total": n, fraction: value, ...}} from `_percentiles_sql` rows."""
    groups: dict[Any, dict[Any, Any]] = {}
    for row in rows:
        entry = groups.setdefault(row["grp"], {"total": row["total"]})
        entry[row["fraction"]] = row["value"]
    return groups


# Durations read from the source rows of one bucket (see `_percentiles_sql`); each fetch
# matches an expression index of migration 0006, which hands over exactly those rows.
RECEIPT = "date_part('epoch', c.stopped_at - c.started_at)"
PERCEIVED = "greatest(date_part('epoch', c.stopped_at - c.posted_at), 0)"
RESOLUTION = "date_part('epoch', t.resolved_at - t.opened_at)"
ANSWER = "date_part('epoch', r.answered_at - r.created_at)"


def _bucket(value: str, metric: str) -> str:
    return f"sd_duration_bucket({value}, {BUCKETS_PER_DOUBLING[Metric(metric)]})"


def _clock_fetch(
    value: str, metric: str, group_condition: str, extra: str, filters: DashboardFilters
) -> str:
    return f"""
        SELECT {value} AS value FROM tickets_slaclock c
        WHERE {group_condition} AND {_bucket(value, metric)} = l.bucket
          AND c.started_at >= %(start)s AND c.started_at < %(end)s
          AND c.stopped_at IS NOT NULL AND NOT c.is_cancelled{extra}
          {_ticket_channel_sql(filters, "c")}
    """


# --------------------------------------------------------------------------- compliance


@dataclass(frozen=True)
class Outcome:
    met: int
    breached: int
    rate: float | None  # met ÷ (met + breached); None without outcomes


PERIODS = ("today", "days_7", "days_30", "range")


def compliance(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """SLA compliance per clock kind for today, 7 days, 30 days and the range, plus the daily
    trend (all kinds together) over the range. One query: outcomes are counted per desk day
    and kind once, then summed per period and per day in SQL."""
    today = now.astimezone(DESK_TIME_ZONE).date()
    params = _base_params(filters, now)
    params.update(
        today=today,
        week_from=today - timedelta(days=6),
        month_from=today - timedelta(days=29),
    )
    first_day = min(filters.date_from, today - timedelta(days=29))
    last_day = max(filters.date_to, today)
    params.update(first_day=first_day, last_day=last_day, met=Metric.MET, breached=Metric.BREACHED)
    sql = f"""
        WITH daily AS (
            -- outcomes per desk day and kind, from the report facts
            SELECT f.kind, f.day,
                   coalesce(sum(f.n) FILTER (WHERE f.metric = %(met)s), 0) AS met,
                   coalesce(sum(f.n) FILTER (WHERE f.metric = %(breached)s), 0) AS breached
            FROM tickets_reportfact f
            WHERE f.metric IN (%(met)s, %(breached)s)
              AND f.day BETWEEN %(first_day)s AND %(last_day)s {_fact_channel_sql(filters)}
            GROUP BY f.kind, f.day
        ), periods AS (
            SELECT kind, 'today' AS period, met, breached FROM daily WHERE day = %(today)s
            UNION ALL
            SELECT kind, 'days_7', met, breached FROM daily
                WHERE day BETWEEN %(week_from)s AND %(today)s
            UNION ALL
            SELECT kind, 'days_30', met, breached FROM daily
                WHERE day BETWEEN %(month_from)s AND %(today)s
            UNION ALL
            SELECT kind, 'range', met, breached FROM daily
                WHERE day BETWEEN %(date_from)s AND %(date_to)s
        )
        SELECT 'period' AS section, kind, period, NULL::date AS day,
               sum(met)::bigint AS met, sum(breached)::bigint AS breached,
               sum(met)::float / nullif(sum(met) + sum(breached), 0) AS rate
        FROM periods GROUP BY kind, period
        UNION ALL
        SELECT 'trend', NULL, NULL, day, sum(met)::bigint, sum(breached)::bigint,
               sum(met)::float / nullif(sum(met) + sum(breached), 0)
        FROM daily WHERE day BETWEEN %(date_from)s AND %(date_to)s GROUP BY day
    """
    by_kind: dict[str, dict[str, Outcome]] = {
        kind: {period: Outcome(0, 0, None) for period in PERIODS} for kind in SlaKind.values
    }
    trend_by_day: dict[date, Outcome] = {}
    for row in dict_rows(sql, params):
        outcome = Outcome(met=row["met"], breached=row["breached"], rate=row["rate"])
        if row["section"] == "period":
            by_kind[row["kind"]][row["period"]] = outcome
        else:
            trend_by_day[row["day"]] = outcome
    return {
        "by_kind": [
            {"kind": kind, "label": SlaKind(kind).label, **by_kind[kind]} for kind in SlaKind.values
        ],
        "trend": [
            {"day": day, **vars(trend_by_day.get(day, Outcome(0, 0, None)))} for day in filters.days
        ],
    }


def response_times(filters: DashboardFilters, *, now: datetime) -> list[dict[str, Any]]:
    """Median and 90th percentile (seconds) of stopped, not cancelled clocks started in the
    range, per kind: from the desk's receipt (`stopped_at − started_at`) and as the customer
    perceived it (`stopped_at − posted_at`, floored at 0; clocks without `posted_at` left
    out). Exact `percentile_cont` values, located in the report facts (`_percentiles_sql`)."""
    params = _base_params(filters, now)
    params["fractions"] = [0.5, 0.9]
    receipt = _percentiles_sql(
        _histogram_sql(Metric.RECEIPT, "f.kind", filters),
        _clock_fetch(RECEIPT, Metric.RECEIPT, "c.kind = l.grp", "", filters),
    )
    perceived = _percentiles_sql(
        _histogram_sql(Metric.PERCEIVED, "f.kind", filters),
        _clock_fetch(
            PERCEIVED, Metric.PERCEIVED, "c.kind = l.grp", " AND c.posted_at IS NOT NULL", filters
        ),
    )
    sql = f"""
        SELECT 'receipt' AS measure, * FROM ({receipt}) receipt
        UNION ALL
        SELECT 'perceived', * FROM ({perceived}) perceived
    """
    rows = dict_rows(sql, params)
    receipt_by_kind = _by_fraction([row for row in rows if row["measure"] == "receipt"])
    perceived_by_kind = _by_fraction([row for row in rows if row["measure"] == "perceived"])
    result = []
    for kind in SlaKind.values:
        receipt_values = receipt_by_kind.get(kind, {})
        perceived_values = perceived_by_kind.get(kind, {})
        result.append(
            {
                "kind": kind,
                "label": SlaKind(kind).label,
                "stopped": receipt_values.get("total", 0),
                "median_seconds": receipt_values.get(0.5),
                "p90_seconds": receipt_values.get(0.9),
                "perceived_median_seconds": perceived_values.get(0.5),
                "perceived_p90_seconds": perceived_values.get(0.9),
            }
        )
    return result


# --------------------------------------------------------------------------- live figures


def backlog(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Open tickets by stage and state (current, not bound to the range), with totals, from
    the live facts of open tickets."""
    params = _base_params(filters, now)
    stage = _stage_case("t.state", params)
    sql = f"""
        WITH t AS (
            SELECT f.kind AS state, sum(f.n)::bigint AS n FROM {_open_facts_sql(filters, params)}
            GROUP BY f.kind HAVING sum(f.n) > 0
        )
        SELECT {stage} AS stage, t.state, sum(t.n)::bigint AS tickets,
               GROUPING({stage}, t.state) AS level
        FROM t
        GROUP BY ROLLUP ({stage}, t.state)
    """
    per_state: dict[str, int] = {}
    per_stage: dict[str, int] = {}
    total = 0
    for row in dict_rows(sql, params):
        if row["level"] == 0:
            per_state[row["state"]] = row["tickets"]
        elif row["level"] == 1:
            per_stage[row["stage"]] = row["tickets"]
        else:
            total = row["tickets"]
    stages = []
    for stage_value in dict.fromkeys(STAGE_OF_STATE.values()):
        if filters.stage and stage_value != filters.stage:
            continue
        stages.append(
            {
                "stage": stage_value,
                "label": stage_value.label,
                "tickets": per_stage.get(stage_value, 0),
                "states": [
                    {
                        "state": state,
                        "label": TicketState(state).label,
                        "tickets": per_state.get(state, 0),
                    }
                    for state in states_of_stage(stage_value)
                ],
            }
        )
    return {"total": total, "stages": stages}


def _live_clocks(filters: DashboardFilters) -> QuerySet[SlaClock]:
    clocks = SlaClock.objects.all()
    if filters.channel_id:
        clocks = clocks.filter(ticket__channel_id=filters.channel_id)
    if filters.stage:
        clocks = clocks.filter(ticket__state__in=states_of_stage(filters.stage))
    return clocks


def _clock_rows(clocks: QuerySet[SlaClock], order: str, limit: int) -> dict[str, Any]:
    """The first `limit` clocks with the exact total, in one query (window count)."""
    rows = list(
        clocks.annotate(total=Window(Count("id")))
        .order_by(order, "id")
        .values(
            "id",
            "kind",
            "ticket_id",
            "started_at",
            "warn_at",
            "due_at",
            "total",
            state=F("ticket__state"),
            priority=F("ticket__priority"),
            assignee_name=F("ticket__assignee__username"),
            channel_name=F("ticket__channel__name"),
        )[:limit]
    )
    for row in rows:
        row["kind_label"] = SlaKind(row["kind"]).label
        row["state_label"] = TicketState(row["state"]).label
    return {"total": rows[0]["total"] if rows else 0, "rows": rows}


def at_risk_clocks(
    filters: DashboardFilters, *, now: datetime, limit: int = LIVE_LIST_LIMIT
) -> dict[str, Any]:
    """Running clocks that were warned, are not breached and not yet past their deadline,
    soonest deadline first."""
    return _clock_rows(_live_clocks(filters).at_risk(now), "due_at", limit)


def live_breaches(
    filters: DashboardFilters, *, now: datetime, limit: int = LIVE_LIST_LIMIT
) -> dict[str, Any]:
    """Running clocks past their deadline (breach recorded or about to be), oldest first."""
    return _clock_rows(_live_clocks(filters).breached_running(now), "due_at", limit)


def live_counts(filters: DashboardFilters, *, now: datetime) -> dict[str, int]:
    """Open tickets, at-risk clocks and live breaches, in one query."""
    params = _base_params(filters, now)
    stage = _stage_sql("t.state", filters, params)
    channel = _channel_sql("t", filters)
    clock_join = "JOIN tickets_ticket t ON t.id = c.ticket_id" if (stage or channel) else ""
    sql = f"""
        SELECT
          (SELECT coalesce(sum(f.n), 0)::bigint FROM {_open_facts_sql(filters, params)}) AS open,
          (SELECT count(*) FROM tickets_slaclock c {clock_join}
            WHERE c.stopped_at IS NULL AND c.warned_at IS NOT NULL AND c.due_at >= %(now)s
              AND NOT EXISTS (SELECT 1 FROM tickets_slabreach b WHERE b.clock_id = c.id)
              {channel}{stage}) AS at_risk,
          (SELECT count(*) FROM tickets_slaclock c {clock_join}
            WHERE c.stopped_at IS NULL AND c.due_at < %(now)s{channel}{stage}) AS breached
    """
    return dict_rows(sql, params)[0]


def overdue_follow_ups(
    filters: DashboardFilters, *, now: datetime, limit: int = LIVE_LIST_LIMIT
) -> dict[str, Any]:
    """Tickets still flagged "follow-up due" 24 hours after it fell due, oldest first."""
    tickets = Ticket.objects.follow_up_overdue(now)
    if filters.channel_id:
        tickets = tickets.filter(channel_id=filters.channel_id)
    if filters.stage:
        tickets = tickets.in_stage(filters.stage)
    rows = list(
        tickets.annotate(total=Window(Count("id")))
        .order_by("follow_up_due_at", "id")
        .values(
            "id",
            "state",
            "follow_up_due_at",
            "handover_reference",
            "total",
            assignee_name=F("assignee__username"),
            channel_name=F("channel__name"),
        )[:limit]
    )
    for row in rows:
        row["state_label"] = TicketState(row["state"]).label
    return {"total": rows[0]["total"] if rows else 0, "rows": rows}


# --------------------------------------------------------------------------- people


def agent_figures(filters: DashboardFilters, *, now: datetime) -> list[dict[str, Any]]:
    """Per person: open tickets assigned now, replies sent in the range (by author), and the
    median first response (receipt to the sent reply that stopped the first-response clock)
    of the clocks started in the range, attributed to that reply's author
    (`SlaClock.stopped_by`, written when the reply stops the clock)."""
    params = _base_params(filters, now)
    params["fractions"] = [0.5]
    first_response = _percentiles_sql(
        _histogram_sql(Metric.FIRST_RESPONSE_BY, "f.person_id", filters),
        _clock_fetch(
            RECEIPT,
            Metric.FIRST_RESPONSE_BY,
            f"c.kind = '{SlaKind.FIRST_RESPONSE.value}' AND c.stopped_by_id = l.grp",
            "",
            filters,
        ),
    )
    sql = f"""
        WITH open_load AS (
            SELECT f.person_id AS user_id, sum(f.n)::bigint AS open_tickets
            FROM {_open_facts_sql(filters, params)} AND f.person_id <> 0
            GROUP BY 1 HAVING sum(f.n) > 0
        ), sent AS (
            SELECT f.person_id AS user_id, sum(f.n)::bigint AS replies_sent
            FROM {_facts_in_range_sql(Metric.REPLIES_SENT, filters)}
            GROUP BY 1 HAVING sum(f.n) > 0
        ), first_response AS (
            SELECT grp AS user_id, total AS first_responses, value AS median_seconds
            FROM ({first_response}) percentiles
        ), people AS (
            SELECT user_id FROM open_load UNION SELECT user_id FROM sent
            UNION SELECT user_id FROM first_response
        )
        SELECT u.id AS user_id, u.username, u.first_name, u.last_name,
               coalesce(o.open_tickets, 0) AS open_tickets,
               coalesce(s.replies_sent, 0) AS replies_sent,
               coalesce(f.first_responses, 0) AS first_responses,
               f.median_seconds AS median_first_response_seconds
        FROM people p
        JOIN auth_user u ON u.id = p.user_id
        LEFT JOIN open_load o ON o.user_id = p.user_id
        LEFT JOIN sent s ON s.user_id = p.user_id
        LEFT JOIN first_response f ON f.user_id = p.user_id
        ORDER BY open_tickets DESC, replies_sent DESC, u.username
    """
    rows = dict_rows(sql, params)
    for row in rows:
        full_name = f"{row['first_name']} {row['last_name']}".strip()
        row["name"] = full_name or row["username"]
    return rows


def department_times(filters: DashboardFilters, *, now: datetime) -> list[dict[str, Any]]:
    """Per department, over the requests sent in the range: how many, answered, still open,
    answer time (answered_at − created_at) median and 90th percentile, and the share kept
    within its deadline = answered by `due_at` ÷ (answered + open past `due_at`). Withdrawn
    requests have no outcome. Counts and percentiles from the report facts; the open
    requests past their deadline (which depend on `now`) from the requests themselves."""
    params = _base_params(filters, now)
    params.update(open=str(DepartmentRequestStatus.OPEN), fractions=[0.5, 0.9])
    channel = _ticket_channel_sql(filters, "r")
    times = _percentiles_sql(
        _histogram_sql(Metric.ANSWERED, "f.person_id", filters),
        f"""
        SELECT {ANSWER} AS value FROM tickets_departmentrequest r
        WHERE r.department_id = l.grp AND {_bucket(ANSWER, Metric.ANSWERED)} = l.bucket
          AND r.answered_at IS NOT NULL
          AND r.created_at >= %(start)s AND r.created_at < %(end)s {channel}
        """,
    )
    sql = f"""
        WITH requests AS (
            SELECT f.person_id AS department_id, sum(f.n)::bigint AS requests,
                   coalesce(sum(f.n) FILTER (WHERE f.kind = %(open)s), 0)::bigint AS open
            FROM {_facts_in_range_sql(Metric.REQUESTS, filters)}
            GROUP BY 1 HAVING sum(f.n) > 0
        ), answered AS (
            SELECT f.person_id AS department_id, sum(f.n)::bigint AS answered,
                   coalesce(sum(f.n) FILTER (WHERE f.value2 = 1), 0)::bigint AS kept
            FROM {_facts_in_range_sql(Metric.ANSWERED, filters)}
            GROUP BY 1
        ), overdue AS (
            SELECT r.department_id, count(*) AS overdue
            FROM tickets_departmentrequest r
            WHERE r.status = %(open)s AND r.due_at < %(now)s AND r.answered_at IS NULL
              AND r.created_at >= %(start)s AND r.created_at < %(end)s {channel}
            GROUP BY 1
        ), times AS ({times})
        SELECT d.id AS department_id, d.name, q.requests,
               coalesce(a.answered, 0) AS answered, q.open,
               (SELECT value FROM times WHERE grp = d.id AND fraction = 0.5) AS median_seconds,
               (SELECT value FROM times WHERE grp = d.id AND fraction = 0.9) AS p90_seconds,
               coalesce(a.kept, 0) AS kept,
               coalesce(a.answered, 0) + coalesce(o.overdue, 0) AS decided
        FROM requests q
        JOIN tickets_department d ON d.id = q.department_id
        LEFT JOIN answered a ON a.department_id = q.department_id
        LEFT JOIN overdue o ON o.department_id = q.department_id
        ORDER BY d.name
    """
    rows = dict_rows(sql, params)
    for row in rows:
        row["kept_share"] = _ratio(row["kept"], row["decided"])
    return rows


# --------------------------------------------------------------------------- process


def _depth_histogram(column: str) -> str:
    return f"SELECT '' AS grp, {column} AS bucket, sum(n) AS n FROM depth GROUP BY {column}"


def process_depth(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Over tickets resolved (or marked unsolvable) in the range: duration from the first
    mention to resolution (resolved_at − opened_at) median and 90th percentile; transitions
    per ticket median, 90th percentile and mean; hand-overs (stage changes, see the module
    docstring) in total, median and mean per ticket. Transitions and hand-overs are the
    ticket's counters, written with each transition event (`Ticket.transition_count`,
    `Ticket.handover_count`); the report facts count resolved tickets per value of both,
    so the percentiles are exact without reading the tickets."""
    params = _base_params(filters, now)
    params["fractions"] = [0.5, 0.9]
    depth = f"""
        SELECT f.value, f.value2, sum(f.n)::bigint AS n
        FROM {_facts_in_range_sql(Metric.RESOLUTION_DEPTH, filters)}
        GROUP BY 1, 2 HAVING sum(f.n) > 0
    """
    duration = _percentiles_sql(
        _histogram_sql(Metric.RESOLUTION_TIME, "''", filters),
        f"""
        SELECT {RESOLUTION} AS value FROM tickets_ticket t
        WHERE t.state = ANY(%(resolution_states)s) AND t.resolved_at IS NOT NULL
          AND {_bucket(RESOLUTION, Metric.RESOLUTION_TIME)} = l.bucket
          AND t.resolved_at >= %(start)s AND t.resolved_at < %(end)s
          {_channel_sql("t", filters)}
        """,
    )
    params["resolution_states"] = [str(state) for state in RESOLUTION_STATES]
    sql = f"""
        WITH depth AS ({depth})
        SELECT 'totals' AS part, NULL::float8 AS fraction,
               coalesce(sum(n), 0)::bigint AS tickets,
               (sum(value * n)::float8 / nullif(sum(n), 0)) AS mean_transitions,
               coalesce(sum(value2 * n), 0)::bigint AS handovers,
               (sum(value2 * n)::float8 / nullif(sum(n), 0)) AS mean_handovers,
               NULL::float8 AS value
        FROM depth
        UNION ALL
        SELECT 'duration', fraction, NULL, NULL, NULL, NULL, value FROM ({duration}) d
        UNION ALL
        SELECT 'transitions', fraction, NULL, NULL, NULL, NULL, value
        FROM ({_percentiles_sql(_depth_histogram("value"))}) tr
        UNION ALL
        SELECT 'handovers', fraction, NULL, NULL, NULL, NULL, value
        FROM ({_percentiles_sql(_depth_histogram("value2"))}) ho
    """
    row: dict[str, Any] = {}
    parts: dict[str, dict[float, float]] = {"duration": {}, "transitions": {}, "handovers": {}}
    for result in dict_rows(sql, params):
        if result["part"] == "totals":
            row.update(
                tickets=result["tickets"],
                mean_transitions=result["mean_transitions"],
                handovers=result["handovers"],
                mean_handovers=result["mean_handovers"],
            )
        else:
            parts[result["part"]][result["fraction"]] = result["value"]
    row["median_duration_seconds"] = parts["duration"].get(0.5)
    row["p90_duration_seconds"] = parts["duration"].get(0.9)
    row["median_transitions"] = parts["transitions"].get(0.5)
    row["p90_transitions"] = parts["transitions"].get(0.9)
    row["median_handovers"] = parts["handovers"].get(0.5)
    return row


def channel_volume(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Mentions received per desk day and channel in the range (posts of the channels' own
    accounts left out), with the total per channel, from the report facts."""
    params = _base_params(filters, now)
    sql = f"""
        SELECT ch.id AS channel_id, ch.name AS channel, v.day, v.mentions
        FROM (
            SELECT f.channel_id, f.day, sum(f.n)::bigint AS mentions
            FROM tickets_reportfact f
            WHERE f.metric = '{Metric.MENTIONS.value}'
              AND f.day BETWEEN %(date_from)s AND %(date_to)s
              AND f.channel_id <> {ALL_CHANNELS:d}{_channel_sql("f", filters)}
            GROUP BY 1, 2 HAVING sum(f.n) > 0
        ) v
        JOIN monitoring_channel ch ON ch.id = v.channel_id
        ORDER BY ch.name, v.day
    """
    channels: dict[int, dict[str, Any]] = {}
    for row in dict_rows(sql, params):
        entry = channels.setdefault(
            row["channel_id"], {"channel": row["channel"], "by_day": {}, "total": 0}
        )
        entry["by_day"][row["day"]] = row["mentions"]
        entry["total"] += row["mentions"]
    series = [
        {
            "channel": entry["channel"],
            "total": entry["total"],
            "per_day": [entry["by_day"].get(day, 0) for day in filters.days],
        }
        for entry in channels.values()
    ]
    return {"days": filters.days, "series": series}


def unsolvable_topics(filters: DashboardFilters, *, now: datetime) -> list[dict[str, Any]]:
    """Topics under observation with the number of tickets linked to each (all time, and
    opened in the range), most tickets first."""
    params = _base_params(filters, now)
    sql = f"""
        SELECT tp.id AS topic_id, tp.name, coalesce(linked.tickets, 0) AS tickets,
               coalesce(linked.tickets_in_range, 0) AS tickets_in_range
        FROM tickets_topic tp
        LEFT JOIN (
            SELECT t.topic_id, count(*) AS tickets,
                   count(*) FILTER (
                       WHERE t.opened_at >= %(start)s AND t.opened_at < %(end)s
                   ) AS tickets_in_range
            FROM tickets_ticket t
            WHERE t.topic_id IS NOT NULL {_channel_sql("t", filters)}
            GROUP BY t.topic_id
        ) linked ON linked.topic_id = tp.id
        ORDER BY tickets DESC, tp.name
    """
    return dict_rows(sql, params)


# --------------------------------------------------------------------------- summary


def sla_summary(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """The figures of `GET /api/v1/sla/summary/`: compliance per kind and period, live counts
    and response-time percentiles (three queries)."""
    figures = compliance(filters, now=now)
    return {
        "compliance": figures["by_kind"],
        "counts": live_counts(filters, now=now),
        "response_times": response_times(filters, now=now),
    }
