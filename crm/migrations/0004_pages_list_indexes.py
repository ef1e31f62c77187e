"""Indexes of the ticket lists and the review queue found by bench/pages.py at 1,000,000
tickets (EXPLAIN ANALYZE), built CONCURRENTLY: the tables stay writable meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('crm', '0003_workspace_identity_block'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='socialidentity',
            index=models.Index(condition=models.Q(('blocked_at__isnull', False)), fields=['customer'], name='identity_blocked_customer'),
        ),
    ]
