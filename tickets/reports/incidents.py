"""Incident figures (issue 14, §4; read-only): the incident page's timeline of volume per
minute by platform and its tonality over time, and the dashboard's incidents of a range with
size, time to detection (first member's `created_at` → opened) and time to first statement
(opened → the first statement reply sent). Each is a constant number of queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncMinute

from tickets.choices import ReplyStatus
from tickets.models import Incident, IncidentDelivery, IncidentMember
from triage.choices import Tonality

TIMELINE_MAX_BUCKETS = 90  # columns of the timeline; longer incidents use wider buckets


@dataclass(frozen=True)
class Timeline:
    """Counts per bucket (`starts`, `bucket_minutes` wide) and series label."""

    starts: list[datetime]
    bucket_minutes: int
    series: dict[str, list[int]]


def _bucket_minutes(first: datetime, last: datetime) -> int:
    span = int((last - first).total_seconds() // 60) + 1
    return max(1, -(-span // TIMELINE_MAX_BUCKETS))


def _timeline(rows: list[tuple[datetime, str, int]]) -> Timeline:
    if not rows:
        return Timeline([], 1, {})
    first, last = min(row[0] for row in rows), max(row[0] for row in rows)
    width = _bucket_minutes(first, last)
    count = int((last - first).total_seconds() // 60) // width + 1
    starts = [first + timedelta(minutes=width * index) for index in range(count)]
    series: dict[str, list[int]] = {}
    for minute, label, value in rows:
        index = int((minute - first).total_seconds() // 60) // width
        series.setdefault(label, [0] * count)[index] += value
    return Timeline(starts, width, dict(sorted(series.items())))


def volume_by_platform(incident: Incident) -> Timeline:
    """Member posts per minute (their own `created_at`) and platform: one query."""
    rows = (
        IncidentMember.objects.filter(incident=incident)
        .annotate(minute=TruncMinute("mention__created_at"))
        .values_list("minute", "mention__channel__platform")
        .annotate(posts=Count("pk"))
        .order_by("minute")
    )
    return _timeline([(minute, platform, posts) for minute, platform, posts in rows])


def tonality_over_time(incident: Incident) -> Timeline:
    """Member posts per minute by their triage tonality (negative, neutral, positive; posts
    without a suggestion are left out): one query."""
    rows = (
        IncidentMember.objects.filter(incident=incident, mention__triage__isnull=False)
        .annotate(minute=TruncMinute("mention__created_at"))
        .values_list("minute", "mention__triage__tonality")
        .annotate(posts=Count("pk"))
        .order_by("minute")
    )
    labels = dict(Tonality.choices)
    return _timeline([(minute, str(labels.get(tone, tone)), posts) for minute, tone, posts in rows])


def delivery_counts(incident: Incident) -> dict[int, dict[str, int]]:
    """Statement id → replies queued, sent and failed: one query."""
    rows = (
        IncidentDelivery.objects.filter(statement__incident=incident)
        .values("statement_id")
        .annotate(
            queued=Count("pk"),
            sent=Count("pk", filter=Q(reply__status=ReplyStatus.SENT)),
            failed=Count("pk", filter=Q(reply__status=ReplyStatus.FAILED)),
        )
    )
    return {row.pop("statement_id"): row for row in rows}


def incidents_in_range(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Incidents opened in [start, end) with size, time to detection and time to first
    statement (seconds; None while no statement reply was sent). One query."""
    incidents = (
        Incident.objects.opened_between(start, end)
        .annotate(
            size=Count("members", distinct=True),
            first_post_at=Min("members__mention__created_at"),
            first_statement_at=Min(
                "statements__deliveries__reply__sent_at",
                filter=Q(statements__deliveries__reply__status=ReplyStatus.SENT),
            ),
        )
        .order_by("-opened_at", "-pk")
    )
    rows = []
    for incident in incidents:
        first_post = incident.first_post_at or incident.started_at
        rows.append(
            {
                "incident": incident,
                "size": incident.size,
                "detection_seconds": max(0, (incident.opened_at - first_post).total_seconds()),
                "statement_seconds": (
                    (incident.first_statement_at - incident.opened_at).total_seconds()
                    if incident.first_statement_at
                    else None
                ),
            }
        )
    return rows
