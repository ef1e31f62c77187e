"""The information centre on the dashboard (read-only): the articles most used in replies sent
in the range (with the resolved cases among them) and the searches that found nothing (the
gaps in the knowledge). One query each; the channel and stage filters do not apply (an
insertion and a search belong to no channel)."""

from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q

from knowledge.models import ArticleUse, SearchLog
from tickets.reports.base import LIVE_LIST_LIMIT, DashboardFilters


def most_used_articles(
    filters: DashboardFilters, *, now: datetime, limit: int = LIVE_LIST_LIMIT
) -> list[dict[str, Any]]:
    """Articles by the number of replies sent in the range that used them."""
    rows = (
        ArticleUse.objects.filter(
            article__isnull=False, sent_at__gte=filters.start_at, sent_at__lt=filters.end_at
        )
        .values("article_id", "article__title", "article__language")
        .annotate(
            sent_replies=Count("reply_id", distinct=True),
            resolved_cases=Count("ticket_id", distinct=True, filter=Q(resolved_at__isnull=False)),
        )
        .order_by("-sent_replies", "-resolved_cases", "article__title", "article_id")[:limit]
    )
    return [
        {
            "article_id": row["article_id"],
            "title": row["article__title"],
            "language": row["article__language"],
            "sent_replies": row["sent_replies"],
            "resolved_cases": row["resolved_cases"],
        }
        for row in rows
    ]


def search_gaps(
    filters: DashboardFilters, *, now: datetime, limit: int = LIVE_LIST_LIMIT
) -> list[dict[str, Any]]:
    """Searches in the range that found no article, by how often they were run."""
    return list(
        SearchLog.objects.without_results()
        .filter(searched_at__gte=filters.start_at, searched_at__lt=filters.end_at)
        .values("normalised_query")
        .annotate(
            searches=Count("id"),
            people=Count("searched_by", distinct=True),
            last_searched_at=Max("searched_at"),
        )
        .order_by("-searches", "-last_searched_at", "normalised_query")[:limit]
    )
