"""Indexes of the search page (tickets.views.search) on customers and their identities:
full text of display names (German || English, exactly the queried expression) and handle
prefixes (`handle LIKE 'prefix%'`, which needs the pattern operator class)."""

from django.db import migrations


def name_search_index(table: str, name: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=f"""
            CREATE INDEX {name} ON {table} USING gin ((
                to_tsvector('german'::regconfig, COALESCE("display_name", ''))
                || to_tsvector('english'::regconfig, COALESCE("display_name", ''))
            ))
        """,
        reverse_sql=f"DROP INDEX IF EXISTS {name}",
    )


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_create_customers_and_identities")]

    operations = [
        name_search_index("crm_customer", "customer_name_search"),
        name_search_index("crm_socialidentity", "identity_name_search"),
        migrations.RunSQL(
            sql="CREATE INDEX identity_handle_prefix ON crm_socialidentity "
            "(handle varchar_pattern_ops)",
            reverse_sql="DROP INDEX IF EXISTS identity_handle_prefix",
        ),
    ]
