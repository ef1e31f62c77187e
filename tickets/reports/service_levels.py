"""Service-level figures: compliance per clock kind and period, response times, the live
backlog, at-risk clocks and live breaches, and overdue follow-ups."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, QuerySet, Window

from servicedesk.sql import dict_rows
from tickets.choices import (
    STAGE_OF_STATE,
    SlaKind,
    TicketState,
    states_of_stage,
)
from tickets.facts import Metric
from tickets.models import SlaClock, Ticket
from tickets.reports.base import (
    LIVE_LIST_LIMIT,
    PERCEIVED,
    RECEIPT,
    DashboardFilters,
    base_params,
    by_fraction,
    channel_sql,
    clock_fetch,
    fact_channel_sql,
    histogram_sql,
    open_facts_sql,
    percentiles_sql,
    stage_case,
    stage_sql,
)
from tickets.sla import DESK_TIME_ZONE

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
    params = base_params(filters, now)
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
              AND f.day BETWEEN %(first_day)s AND %(last_day)s {fact_channel_sql(filters)}
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
    out). Exact `percentile_cont` values, located in the report facts (`percentiles_sql`)."""
    params = base_params(filters, now)
    params["fractions"] = [0.5, 0.9]
    receipt = percentiles_sql(
        histogram_sql(Metric.RECEIPT, "f.kind", filters),
        clock_fetch(RECEIPT, Metric.RECEIPT, "c.kind = l.grp", "", filters),
    )
    perceived = percentiles_sql(
        histogram_sql(Metric.PERCEIVED, "f.kind", filters),
        clock_fetch(
            PERCEIVED, Metric.PERCEIVED, "c.kind = l.grp", " AND c.posted_at IS NOT NULL", filters
        ),
    )
    sql = f"""
        SELECT 'receipt' AS measure, * FROM ({receipt}) receipt
        UNION ALL
        SELECT 'perceived', * FROM ({perceived}) perceived
    """
    rows = dict_rows(sql, params)
    receipt_by_kind = by_fraction([row for row in rows if row["measure"] == "receipt"])
    perceived_by_kind = by_fraction([row for row in rows if row["measure"] == "perceived"])
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
    params = base_params(filters, now)
    stage = stage_case("t.state", params)
    sql = f"""
        WITH t AS (
            SELECT f.kind AS state, sum(f.n)::bigint AS n FROM {open_facts_sql(filters, params)}
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
    params = base_params(filters, now)
    stage = stage_sql("t.state", filters, params)
    channel = channel_sql("t", filters)
    clock_join = "JOIN tickets_ticket t ON t.id = c.ticket_id" if (stage or channel) else ""
    sql = f"""
        SELECT
          (SELECT coalesce(sum(f.n), 0)::bigint FROM {open_facts_sql(filters, params)}) AS open,
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
