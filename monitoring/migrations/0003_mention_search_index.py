"""Full-text index of mention texts for the search page (tickets.views.search).

The expression is exactly the one the search queries with SearchVector(config="german") +
SearchVector(config="english"), so PostgreSQL can use the index for `@@`.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_link_mentions_to_tickets")]

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE INDEX mention_text_search ON monitoring_mention USING gin ((
                    to_tsvector('german'::regconfig, COALESCE("text", ''))
                    || to_tsvector('english'::regconfig, COALESCE("text", ''))
                ))
            """,
            reverse_sql="DROP INDEX IF EXISTS mention_text_search",
        ),
    ]
