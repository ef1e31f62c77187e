"""Raw SQL helpers for the few places that write their own queries (reports, facts)."""

from typing import Any

from django.db import connection


def dict_rows(sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Run `sql` on the default connection; every row as {column name: value}."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
