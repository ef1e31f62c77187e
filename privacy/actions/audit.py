"""The access audit (append-only): writing entries and reading them per customer or user."""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from psycopg2.extras import execute_values

from privacy.models import AccessLog
from tickets.models import Ticket


def write_entries(entries: Sequence[tuple[Any, ...]], *, at: datetime) -> None:
    """(user id, kind, customer id, ticket id, path) rows in one INSERT. A ticket's customer
    is filled in by the same statement, so "per customer" also finds ticket pages."""
    if not entries:
        return
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            f"""INSERT INTO privacy_accesslog (user_id, kind, customer_id, ticket_id, path, at)
                SELECT v.user_id, v.kind,
                       COALESCE(v.customer_id, (SELECT t.customer_id FROM {Ticket._meta.db_table} t
                                                 WHERE t.id = v.ticket_id)),
                       v.ticket_id, v.path, v.at
                  FROM (VALUES %s) AS v(user_id, kind, customer_id, ticket_id, path, at)""",
            [(*entry, at) for entry in entries],
            template="(%s::bigint, %s, %s::bigint, %s::bigint, %s, %s::timestamptz)",
            page_size=len(entries),
        )


def entries(
    *,
    customer_id: int | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AccessLog]:
    """Entries, newest first, read through the (customer, at) or (user, at) index."""
    found = AccessLog.objects.all()
    if customer_id is not None:
        found = found.filter(customer_id=customer_id)
    if user_id is not None:
        found = found.filter(user_id=user_id)
    if since is not None:
        found = found.filter(at__gte=since)
    if until is not None:
        found = found.filter(at__lt=until)
    return found.order_by("-at", "-id")


def as_rows(found: QuerySet[AccessLog]) -> Iterator[dict[str, Any]]:
    for entry in found.iterator(chunk_size=2000):
        yield {
            "id": entry.pk,
            "at": entry.at.isoformat(),
            "user": entry.user_id,
            "kind": entry.kind,
            "customer": entry.customer_id,
            "ticket": entry.ticket_id,
            "path": entry.path,
        }
