"""Dashboard aggregates (read-only): SLA compliance, response times, backlog, at-risk clocks
and live breaches, workload per agent, department answer times, overdue follow-ups, process
duration and depth, volume per channel, topics of unsolvable cases, and the information
centre's most used articles and searches that found nothing (`tickets.reports.knowledge`).

Every figure is computed in PostgreSQL; the functions only shape the rows. Each takes the
`DashboardFilters` and `now`, and runs one query whatever the number of tickets. Counts are
sums over the report facts (`tickets.facts`: daily counts that triggers write in the same
transaction as the change they count), so a month of clocks is never counted again per view.
Percentiles are exact `percentile_cont` values: the facts count the values per duration
bucket, which tells in which bucket a rank lies; only that bucket's source rows are read and
sorted (`tickets.reports.base.percentiles_sql`). The figures that depend on `now` (at-risk
clocks, live breaches, overdue follow-ups and department requests) read the few source rows
concerned through partial indexes.

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

from tickets.reports.base import (
    ANSWER,
    DEFAULT_RANGE_DAYS,
    EXPORT_LIST_LIMIT,
    LIVE_LIST_LIMIT,
    PERCEIVED,
    RECEIPT,
    RESOLUTION,
    DashboardFilters,
    default_filters,
    desk_midnight,
    report_session,
)
from tickets.reports.knowledge import most_used_articles, search_gaps
from tickets.reports.service_levels import (
    PERIODS,
    Outcome,
    at_risk_clocks,
    backlog,
    compliance,
    live_breaches,
    live_counts,
    overdue_follow_ups,
    response_times,
)
from tickets.reports.workload import (
    agent_figures,
    channel_volume,
    department_times,
    process_depth,
    sla_summary,
    unsolvable_topics,
)

__all__ = [
    "ANSWER",
    "DEFAULT_RANGE_DAYS",
    "DashboardFilters",
    "EXPORT_LIST_LIMIT",
    "LIVE_LIST_LIMIT",
    "Outcome",
    "PERCEIVED",
    "PERIODS",
    "RECEIPT",
    "RESOLUTION",
    "agent_figures",
    "at_risk_clocks",
    "backlog",
    "channel_volume",
    "compliance",
    "default_filters",
    "department_times",
    "desk_midnight",
    "live_breaches",
    "live_counts",
    "most_used_articles",
    "overdue_follow_ups",
    "process_depth",
    "report_session",
    "response_times",
    "search_gaps",
    "sla_summary",
    "unsolvable_topics",
]
