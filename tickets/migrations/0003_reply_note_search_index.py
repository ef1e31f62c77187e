"""Full-text indexes of reply and internal-note texts for the search page
(tickets.views.search), on exactly the expression the search queries (German || English)."""

from django.db import migrations


def text_search_index(table: str, name: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=f"""
            CREATE INDEX {name} ON {table} USING gin ((
                to_tsvector('german'::regconfig, COALESCE("text", ''))
                || to_tsvector('english'::regconfig, COALESCE("text", ''))
            ))
        """,
        reverse_sql=f"DROP INDEX IF EXISTS {name}",
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_create_default_sla_policies")]

    operations = [
        text_search_index("tickets_reply", "reply_text_search"),
        text_search_index("tickets_ticketnote", "ticketnote_text_search"),
    ]
