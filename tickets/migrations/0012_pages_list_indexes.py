"""Indexes of the ticket lists and the review queue found by bench/pages.py at 1,000,000
tickets (EXPLAIN ANALYZE), built CONCURRENTLY: the tables stay writable meanwhile."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('guidelines', '0003_remove_guideline_page'),
        ('monitoring', '0005_privacy2_channel_link_only'),
        ('tickets', '0011_workspace2_message_notification_kinds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='reply',
            index=models.Index(condition=models.Q(('status', 'failed')), fields=['created_at', 'id'], name='reply_failed'),
        ),
    ]
