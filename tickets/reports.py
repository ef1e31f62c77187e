"""Dashboard aggregates (read-only): SLA compliance, response times, backlog, at-risk clocks
and live breaches, workload per agent, department answer times, overdue follow-ups, process
duration and depth, volume per channel and topics of unsolvable cases.

Every figure is computed in PostgreSQL (counts, ratios and `percentile_cont` percentiles); the
functions only shape the rows. Each takes the `DashboardFilters` and `now`, and runs a constant
number of queries whatever the number of tickets.

Definitions a reader must know:

- Days are desk days (Europe/Berlin). The range runs from `date_from` 00:00 to the end of
  `date_to`. "Today" is the current desk day, "7 days" and "30 days" end with today.
- Compliance of a clock kind = met ÷ (met + breached) over the clocks *started* in a period
  that have an outcome (`SlaClockQuerySet.with_outcome`): breached if it has a breach row,
  met if stopped, not cancelled and not breached.
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

from tickets.choices import (
    OPEN_STATES,
    STAGE_OF_STATE,
    DepartmentRequestStatus,
    ReplyStatus,
    SlaKind,
    TicketState,
    states_of_stage,
)
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
    """One transaction for a whole dashboard: one snapshot for all figures, and settings
    for large aggregates (no JIT compilation, whose start-up costs more than it
    saves on these queries; sort memory so percentiles sort in RAM)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        yield


# --------------------------------------------------------------------------- SQL plumbing


def _rows(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
    }


def _channel_sql(ticket_alias: str, filters: DashboardFilters) -> str:
    return f" AND {ticket_alias}.channel_id = %(channel)s" if filters.channel_id else ""


def _stage_sql(ticket_alias: str, filters: DashboardFilters, params: dict[str, Any]) -> str:
    if not filters.stage:
        return ""
    params["stage_states"] = list(states_of_stage(filters.stage))
    return f" AND {ticket_alias}.state = ANY(%(stage_states)s)"


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


def _day_bounds(days: list[date], params: dict[str, Any]) -> str:
    """Desk days with their UTC bounds, as SQL rows (day, start_at, end_at). Counting each
    day by an index range avoids a time-zone conversion and a hash entry per row."""
    params["days"] = days
    params["day_starts"] = [desk_midnight(day) for day in days]
    params["day_ends"] = [desk_midnight(day + timedelta(days=1)) for day in days]
    return (
        "unnest(%(days)s::date[], %(day_starts)s::timestamptz[], %(day_ends)s::timestamptz[])"
        " AS d(day, start_at, end_at)"
    )


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
    scan_days = [
        first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)
    ]
    params.update(
        scan_start=desk_midnight(first_day), scan_end=desk_midnight(last_day + timedelta(days=1))
    )
    channel_join = (
        " JOIN tickets_ticket t ON t.id = c.ticket_id AND t.channel_id = %(channel)s"
        if filters.channel_id
        else ""
    )
    sql = f"""
        WITH stopped AS (
            -- Clocks stopped and not cancelled, per day by index range (index-only scans).
            SELECT d.day, x.kind, x.stopped
            FROM {_day_bounds(scan_days, params)}
            CROSS JOIN LATERAL (
                SELECT c.kind, count(*) AS stopped
                FROM tickets_slaclock c {channel_join}
                WHERE c.started_at >= d.start_at AND c.started_at < d.end_at
                  AND c.stopped_at IS NOT NULL AND NOT c.is_cancelled
                GROUP BY c.kind
            ) x
        ), breached AS (
            -- Breached clocks, from the breach rows (a clock's deadline lies after its start).
            SELECT c.kind, (c.started_at AT TIME ZONE %(tz)s)::date AS day,
                   count(*) AS breached,
                   count(*) FILTER (
                       WHERE c.stopped_at IS NOT NULL AND NOT c.is_cancelled
                   ) AS breached_stopped
            FROM tickets_slabreach b
            -- one primary-key lookup per breach: far fewer rows than the month of clocks
            CROSS JOIN LATERAL (
                SELECT c.kind, c.started_at, c.stopped_at, c.is_cancelled, c.ticket_id
                FROM tickets_slaclock c WHERE c.id = b.clock_id
                OFFSET 0  -- keeps the lookup a lookup (not flattened into a hash join)
            ) c {channel_join}
            WHERE b.due_at >= %(scan_start)s
              AND c.started_at >= %(scan_start)s AND c.started_at < %(scan_end)s
            GROUP BY 1, 2
        ), daily AS (
            -- met = stopped, not cancelled and not breached
            SELECT coalesce(s.kind, br.kind) AS kind, coalesce(s.day, br.day) AS day,
                   coalesce(s.stopped, 0) - coalesce(br.breached_stopped, 0) AS met,
                   coalesce(br.breached, 0) AS breached
            FROM stopped s
            FULL JOIN breached br ON br.kind = s.kind AND br.day = s.day
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
    for row in _rows(sql, params):
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
    range, per kind: from the desk's receipt and as the customer perceived it. Grouped by
    kind over index `slaclock_stopped_kind_started` (kind, started_at), which hands the rows
    over in kind order: no sort by kind, and each percentile sorts only its own kind."""
    params = _base_params(filters, now)
    channel_join = (
        " JOIN tickets_ticket t ON t.id = c.ticket_id AND t.channel_id = %(channel)s"
        if filters.channel_id
        else ""
    )
    sql = f"""
        SELECT c.kind, count(*) AS stopped,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
                   ORDER BY date_part('epoch', c.stopped_at - c.started_at)
               ) AS receipt,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
                   ORDER BY greatest(date_part('epoch', c.stopped_at - c.posted_at), 0)
               ) FILTER (WHERE c.posted_at IS NOT NULL) AS perceived
        FROM tickets_slaclock c {channel_join}
        WHERE c.started_at >= %(start)s AND c.started_at < %(end)s
          AND c.stopped_at IS NOT NULL AND NOT c.is_cancelled
        GROUP BY c.kind
    """
    by_kind = {row["kind"]: row for row in _rows(sql, params)}
    result = []
    for kind in SlaKind.values:
        row = by_kind.get(kind, {})
        receipt_values = row.get("receipt") or [None, None]
        perceived_values = row.get("perceived") or [None, None]
        result.append(
            {
                "kind": kind,
                "label": SlaKind(kind).label,
                "stopped": row.get("stopped", 0),
                "median_seconds": receipt_values[0],
                "p90_seconds": receipt_values[1],
                "perceived_median_seconds": perceived_values[0],
                "perceived_p90_seconds": perceived_values[1],
            }
        )
    return result


# --------------------------------------------------------------------------- live figures


def backlog(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Open tickets by stage and state (current, not bound to the range), with totals."""
    params = _base_params(filters, now)
    stage = _stage_case("t.state", params)
    sql = f"""
        SELECT {stage} AS stage, t.state, count(*) AS tickets,
               GROUPING({stage}, t.state) AS level
        FROM tickets_ticket t
        WHERE t.state = ANY(%(open_states)s)
              {_channel_sql("t", filters)}{_stage_sql("t", filters, params)}
        GROUP BY ROLLUP ({stage}, t.state)
    """
    per_state: dict[str, int] = {}
    per_stage: dict[str, int] = {}
    total = 0
    for row in _rows(sql, params):
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
    stage = _stage_sql("t", filters, params)
    channel = _channel_sql("t", filters)
    clock_join = "JOIN tickets_ticket t ON t.id = c.ticket_id" if (stage or channel) else ""
    sql = f"""
        SELECT
          (SELECT count(*) FROM tickets_ticket t
            WHERE t.state = ANY(%(open_states)s){channel}{stage}) AS open,
          (SELECT count(*) FROM tickets_slaclock c {clock_join}
            WHERE c.stopped_at IS NULL AND c.warned_at IS NOT NULL AND c.due_at >= %(now)s
              AND NOT EXISTS (SELECT 1 FROM tickets_slabreach b WHERE b.clock_id = c.id)
              {channel}{stage}) AS at_risk,
          (SELECT count(*) FROM tickets_slaclock c {clock_join}
            WHERE c.stopped_at IS NULL AND c.due_at < %(now)s{channel}{stage}) AS breached
    """
    return _rows(sql, params)[0]


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
    params.update(sent=str(ReplyStatus.SENT), first_response=str(SlaKind.FIRST_RESPONSE))
    channel_reply = (
        " AND r.ticket_id IN (SELECT id FROM tickets_ticket WHERE channel_id = %(channel)s)"
        if filters.channel_id
        else ""
    )
    channel_clock = (
        " AND c.ticket_id IN (SELECT id FROM tickets_ticket WHERE channel_id = %(channel)s)"
        if filters.channel_id
        else ""
    )
    sql = f"""
        WITH open_load AS (
            SELECT t.assignee_id AS user_id, count(*) AS open_tickets
            FROM tickets_ticket t
            WHERE t.state = ANY(%(open_states)s) AND t.assignee_id IS NOT NULL
                  {_channel_sql("t", filters)}{_stage_sql("t", filters, params)}
            GROUP BY 1
        ), sent AS (
            SELECT r.author_id AS user_id, count(*) AS replies_sent
            FROM tickets_reply r
            WHERE r.status = %(sent)s AND r.sent_at >= %(start)s AND r.sent_at < %(end)s
                  {channel_reply}
            GROUP BY 1
        ), first_answers AS (
            SELECT c.stopped_by_id AS user_id,
                   date_part('epoch', c.stopped_at - c.started_at) AS seconds
            FROM tickets_slaclock c
            WHERE c.started_at >= %(start)s AND c.started_at < %(end)s
                  AND c.kind = %(first_response)s AND c.stopped_by_id IS NOT NULL
                  AND NOT c.is_cancelled {channel_clock}
        ), first_response AS (
            SELECT user_id, count(*) AS first_responses,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds
            FROM first_answers GROUP BY user_id
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
    rows = _rows(sql, params)
    for row in rows:
        full_name = f"{row['first_name']} {row['last_name']}".strip()
        row["name"] = full_name or row["username"]
    return rows


def department_times(filters: DashboardFilters, *, now: datetime) -> list[dict[str, Any]]:
    """Per department, over the requests sent in the range: how many, answered, still open,
    answer time (answered_at − created_at) median and 90th percentile, and the share kept
    within its deadline = answered by `due_at` ÷ (answered + open past `due_at`). Withdrawn
    requests have no outcome."""
    params = _base_params(filters, now)
    params["open"] = str(DepartmentRequestStatus.OPEN)
    channel = (
        " AND r.ticket_id IN (SELECT id FROM tickets_ticket WHERE channel_id = %(channel)s)"
        if filters.channel_id
        else ""
    )
    sql = f"""
        SELECT d.id AS department_id, d.name, count(*) AS requests,
               count(r.answered_at) AS answered,
               count(*) FILTER (WHERE r.status = %(open)s) AS open,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
                   ORDER BY date_part('epoch', r.answered_at - r.created_at)
               ) FILTER (WHERE r.answered_at IS NOT NULL) AS answer_seconds,
               count(*) FILTER (WHERE r.answered_at <= r.due_at) AS kept,
               count(*) FILTER (
                   WHERE r.answered_at IS NOT NULL
                      OR (r.status = %(open)s AND r.due_at < %(now)s)
               ) AS decided
        FROM tickets_departmentrequest r
        JOIN tickets_department d ON d.id = r.department_id
        WHERE r.created_at >= %(start)s AND r.created_at < %(end)s {channel}
        GROUP BY d.id, d.name
        ORDER BY d.name
    """
    rows = _rows(sql, params)
    for row in rows:
        answer_seconds = row.pop("answer_seconds") or [None, None]
        row["median_seconds"], row["p90_seconds"] = answer_seconds
        row["kept_share"] = _ratio(row["kept"], row["decided"])
    return rows


# --------------------------------------------------------------------------- process


def process_depth(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Over tickets resolved (or marked unsolvable) in the range: duration from the first
    mention to resolution (resolved_at − opened_at) median and 90th percentile; transitions
    per ticket median, 90th percentile and mean; hand-overs (stage changes, see the module
    docstring) in total, median and mean per ticket. Transitions and hand-overs are the
    ticket's counters, written with each transition event (`Ticket.transition_count`,
    `Ticket.handover_count`), so a month of events need not be counted again."""
    params = _base_params(filters, now)
    params["resolution_states"] = [str(state) for state in RESOLUTION_STATES]
    sql = f"""
        SELECT count(*) AS tickets,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
                   ORDER BY date_part('epoch', t.resolved_at - t.opened_at)
               ) AS duration,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY t.transition_count)
                   AS transitions,
               avg(t.transition_count)::float AS mean_transitions,
               coalesce(sum(t.handover_count), 0)::bigint AS handovers,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY t.handover_count) AS median_handovers,
               avg(t.handover_count)::float AS mean_handovers
        FROM tickets_ticket t
        WHERE t.state = ANY(%(resolution_states)s)
          AND t.resolved_at >= %(start)s AND t.resolved_at < %(end)s
          {_channel_sql("t", filters)}
    """
    row = _rows(sql, params)[0]
    duration = row.pop("duration") or [None, None]
    transitions = row.pop("transitions") or [None, None]
    row["median_duration_seconds"], row["p90_duration_seconds"] = duration
    row["median_transitions"], row["p90_transitions"] = transitions
    return row


def channel_volume(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Mentions received per desk day and channel in the range (posts of the channels' own
    accounts left out), with the total per channel."""
    params = _base_params(filters, now)
    channel = " AND m.channel_id = %(channel)s" if filters.channel_id else ""
    sql = f"""
        SELECT ch.id AS channel_id, ch.name AS channel, v.day, v.mentions
        FROM {_day_bounds(filters.days, params)}
        CROSS JOIN LATERAL (
            SELECT d.day, m.channel_id, count(*) AS mentions
            FROM monitoring_mention m
            WHERE m.received_at >= d.start_at AND m.received_at < d.end_at
              AND NOT m.is_own_account {channel}
            GROUP BY m.channel_id
        ) v
        JOIN monitoring_channel ch ON ch.id = v.channel_id
        ORDER BY ch.name, v.day
    """
    channels: dict[int, dict[str, Any]] = {}
    for row in _rows(sql, params):
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
    return _rows(sql, params)


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
