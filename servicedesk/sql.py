"""Raw SQL helpers for the few places that write their own queries (intake, events,
reports, facts)."""

import enum
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def dict_rows(sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Run `sql` on the default connection; every row as {column name: value}."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def insert_rows(objects: Sequence[models.Model]) -> tuple[str, str, list[tuple[Any, ...]]]:
    """What an INSERT of new objects of one model writes: the quoted table, the quoted
    column list and one tuple of values per object. Values are read by attname as the
    model's __init__ left them (defaults applied); JSON fields are wrapped, enum members
    stored by value. Not for fields that encrypt or transform their value."""
    from psycopg2.extras import Json

    meta = type(objects[0])._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    stamped = {
        field.attname
        for field in fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    }
    rows = []
    for obj in objects:
        row = []
        for field in fields:
            if field.attname in stamped:
                value = field.pre_save(obj, True)
            else:
                value = getattr(obj, field.attname)
            if isinstance(field, models.JSONField):
                value = Json(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            row.append(value)
        rows.append(tuple(row))
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    return connection.ops.quote_name(meta.db_table), columns, rows


def bulk_insert(objects: Sequence[models.Model]) -> None:
    """INSERT new objects of one model in one statement and set their primary keys, like
    `bulk_create` but without its per-value preparation: on the intake's hot path the ORM
    cost more than the database (measured with bench/ingest.py). Values as insert_rows
    reads them."""
    if not objects:
        return
    from psycopg2.extras import execute_values

    table, columns, rows = insert_rows(objects)
    meta = type(objects[0])._meta
    with connection.cursor() as cursor:
        ids = execute_values(
            cursor,
            f"INSERT INTO {table} ({columns}) VALUES %s "
            f"RETURNING {connection.ops.quote_name(meta.pk.column)}",
            rows,
            page_size=len(rows),
            fetch=True,
        )
    for obj, (pk,) in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
