"""Figures of people and process: workload and times per agent, department answer times,
process duration and depth, volume per channel, topics of unsolvable cases, and the
summary of the API."""

from datetime import datetime
from typing import Any

from servicedesk.sql import dict_rows
from tickets.choices import (
    DepartmentRequestStatus,
    SlaKind,
)
from tickets.facts import ALL_CHANNELS, Metric
from tickets.reports.base import (
    ANSWER,
    RECEIPT,
    RESOLUTION,
    RESOLUTION_STATES,
    DashboardFilters,
    base_params,
    bucket_sql,
    channel_sql,
    clock_fetch,
    facts_in_range_sql,
    histogram_sql,
    open_facts_sql,
    percentiles_sql,
    ratio_of,
    ticket_channel_sql,
)
from tickets.reports.service_levels import (
    compliance,
    live_counts,
    response_times,
)

# --------------------------------------------------------------------------- people


def agent_figures(filters: DashboardFilters, *, now: datetime) -> list[dict[str, Any]]:
    """Per person: open tickets assigned now, replies sent in the range (by author), and the
    median first response (receipt to the sent reply that stopped the first-response clock)
    of the clocks started in the range, attributed to that reply's author
    (`SlaClock.stopped_by`, written when the reply stops the clock)."""
    params = base_params(filters, now)
    params["fractions"] = [0.5]
    first_response = percentiles_sql(
        histogram_sql(Metric.FIRST_RESPONSE_BY, "f.person_id", filters),
        clock_fetch(
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
            FROM {open_facts_sql(filters, params)} AND f.person_id <> 0
            GROUP BY 1 HAVING sum(f.n) > 0
        ), sent AS (
            SELECT f.person_id AS user_id, sum(f.n)::bigint AS replies_sent
            FROM {facts_in_range_sql(Metric.REPLIES_SENT, filters)}
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
    params = base_params(filters, now)
    params.update(open=str(DepartmentRequestStatus.OPEN), fractions=[0.5, 0.9])
    channel = ticket_channel_sql(filters, "r")
    times = percentiles_sql(
        histogram_sql(Metric.ANSWERED, "f.person_id", filters),
        f"""
        SELECT {ANSWER} AS value FROM tickets_departmentrequest r
        WHERE r.department_id = l.grp AND {bucket_sql(ANSWER, Metric.ANSWERED)} = l.bucket
          AND r.answered_at IS NOT NULL
          AND r.created_at >= %(start)s AND r.created_at < %(end)s {channel}
        """,
    )
    sql = f"""
        WITH requests AS (
            SELECT f.person_id AS department_id, sum(f.n)::bigint AS requests,
                   coalesce(sum(f.n) FILTER (WHERE f.kind = %(open)s), 0)::bigint AS open
            FROM {facts_in_range_sql(Metric.REQUESTS, filters)}
            GROUP BY 1 HAVING sum(f.n) > 0
        ), answered AS (
            SELECT f.person_id AS department_id, sum(f.n)::bigint AS answered,
                   coalesce(sum(f.n) FILTER (WHERE f.value2 = 1), 0)::bigint AS kept
            FROM {facts_in_range_sql(Metric.ANSWERED, filters)}
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
        row["kept_share"] = ratio_of(row["kept"], row["decided"])
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
    params = base_params(filters, now)
    params["fractions"] = [0.5, 0.9]
    depth = f"""
        SELECT f.value, f.value2, sum(f.n)::bigint AS n
        FROM {facts_in_range_sql(Metric.RESOLUTION_DEPTH, filters)}
        GROUP BY 1, 2 HAVING sum(f.n) > 0
    """
    duration = percentiles_sql(
        histogram_sql(Metric.RESOLUTION_TIME, "''", filters),
        f"""
        SELECT {RESOLUTION} AS value FROM tickets_ticket t
        WHERE t.state = ANY(%(resolution_states)s) AND t.resolved_at IS NOT NULL
          AND {bucket_sql(RESOLUTION, Metric.RESOLUTION_TIME)} = l.bucket
          AND t.resolved_at >= %(start)s AND t.resolved_at < %(end)s
          {channel_sql("t", filters)}
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
        FROM ({percentiles_sql(_depth_histogram("value"))}) tr
        UNION ALL
        SELECT 'handovers', fraction, NULL, NULL, NULL, NULL, value
        FROM ({percentiles_sql(_depth_histogram("value2"))}) ho
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
    params = base_params(filters, now)
    sql = f"""
        SELECT ch.id AS channel_id, ch.name AS channel, v.day, v.mentions
        FROM (
            SELECT f.channel_id, f.day, sum(f.n)::bigint AS mentions
            FROM tickets_reportfact f
            WHERE f.metric = '{Metric.MENTIONS.value}'
              AND f.day BETWEEN %(date_from)s AND %(date_to)s
              AND f.channel_id <> {ALL_CHANNELS:d}{channel_sql("f", filters)}
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
    opened in the range), most tickets first, and the published articles the topic links to
    (`articles`: [[id, title], …], by title)."""
    params = base_params(filters, now)
    sql = f"""
        SELECT tp.id AS topic_id, tp.name, coalesce(linked.tickets, 0) AS tickets,
               coalesce(linked.tickets_in_range, 0) AS tickets_in_range,
               coalesce((SELECT json_agg(json_build_array(a.id, a.title) ORDER BY a.title)
                           FROM tickets_topic_articles ta
                           JOIN knowledge_article a ON a.id = ta.article_id
                          WHERE ta.topic_id = tp.id AND a.status = 'published'), '[]')
                   AS articles
        FROM tickets_topic tp
        LEFT JOIN (
            SELECT t.topic_id, count(*) AS tickets,
                   count(*) FILTER (
                       WHERE t.opened_at >= %(start)s AND t.opened_at < %(end)s
                   ) AS tickets_in_range
            FROM tickets_ticket t
            WHERE t.topic_id IS NOT NULL {channel_sql("t", filters)}
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
