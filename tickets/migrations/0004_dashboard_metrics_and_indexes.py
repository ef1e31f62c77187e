"""Metric columns and indexes of the team-lead dashboard (tickets/reports.py).

The metric columns are written by the actions that change the data: `transition_count` and
`handover_count` by every transition, `SlaClock.stopped_by` by the reply that stops a clock.
The indexes are written as SQL because most are covering (INCLUDE) partial indexes that let the
reports run as index-only scans over a month of tickets; the models' state does not change
with them, so they need no Meta entry. Each comment names the query it serves.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = [
    # compliance() and response_times(): clocks started in a range, with their outcome columns.
    (
        "slaclock_started_outcome",
        "tickets_slaclock (started_at)"
        " INCLUDE (kind, stopped_at, is_cancelled, posted_at, stopped_by_id)",
    ),
    # channel_volume(): customer mentions received per day and channel.
    (
        "mention_received_channel",
        "monitoring_mention (received_at) INCLUDE (channel_id) WHERE NOT is_own_account",
    ),
    # overdue_follow_ups(): tickets flagged "follow-up due".
    (
        "ticket_follow_up_flagged",
        "tickets_ticket (follow_up_due_at) WHERE follow_up_due_at IS NOT NULL",
    ),
    # process_depth(): tickets resolved in a range.
    (
        "ticket_resolution",
        "tickets_ticket (resolved_at)"
        " INCLUDE (opened_at, channel_id, transition_count, handover_count)"
        " WHERE state IN ('resolved', 'unsolvable')",
    ),
    # agent_figures(): replies sent in a range per author.
    (
        "reply_sent_author",
        "tickets_reply (sent_at) INCLUDE (author_id, ticket_id) WHERE status = 'sent'",
    ),
    # agent_figures(): the sent reply that stopped a first-response clock.
    (
        "reply_sent_ticket_time",
        "tickets_reply (ticket_id, sent_at) INCLUDE (author_id, kind) WHERE status = 'sent'",
    ),
    # process_depth(): transitions and hand-overs per ticket.
    (
        "ticketevent_ticket_transitions",
        "tickets_ticketevent (ticket_id) INCLUDE (from_state, to_state) WHERE kind = 'transition'",
    ),
    # compliance(): the breaches of clocks started in a range (a deadline follows its start).
    ("slabreach_due", "tickets_slabreach (due_at) INCLUDE (clock_id)"),
    # unsolvable_topics(): tickets linked to a topic.
    (
        "ticket_topic_linked",
        "tickets_ticket (topic_id) INCLUDE (opened_at, channel_id) WHERE topic_id IS NOT NULL",
    ),
    # department_times(): requests sent in a range.
    ("deptrequest_created", "tickets_departmentrequest (created_at)"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_reply_note_search_index"),
        ("monitoring", "0002_link_mentions_to_tickets"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="transition_count",
            field=models.PositiveIntegerField(db_default=0, default=0, verbose_name="transitions"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="handover_count",
            field=models.PositiveIntegerField(db_default=0, default=0, verbose_name="hand-overs"),
        ),
        migrations.AddField(
            model_name="slaclock",
            name="stopped_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ] + [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES
    ]
