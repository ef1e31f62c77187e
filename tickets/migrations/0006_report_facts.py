"""Daily report facts for the team-lead dashboard (tickets.ReportFact, tickets/facts.py).

PostgreSQL keeps them: one SQL function per source table says which facts a row stands for
(`sd_clock_facts`, `sd_ticket_facts`, `sd_reply_facts`, `sd_mention_facts`), and triggers add
those of inserted rows (statement triggers over the transition table: one INSERT per batch),
take away those of deleted rows, and on an update that touches a column the facts read (row
triggers with a WHEN clause: other updates cost nothing) take away the old facts and add the
new. `sd_rebuild_report_facts()` computes every fact again from the source tables with the
same functions (seeding with triggers off; repair), and `sd_report_facts_drift()` lists where
the stored sums differ from that computation (tests, `manage.py report_facts --check`).

A clock's outcome is read from its own row: `tickets_slaclock.is_breached` is set by the
trigger on the breach table, so a stop and a breach of the same clock serialise on that row.
It is a database column only (not in the model), so no ORM save can write it back stale.

The expression indexes let a percentile read the source rows of one duration bucket in a
range; the indexes of 0004/0005 that served the former full-range aggregates are dropped.
"""

from django.db import migrations, models

DESK_TIME_ZONE = "Europe/Berlin"  # tickets.sla.DESK_TIME_ZONE; a test checks they agree
# Duration buckets per doubling of the time, per metric (tickets.facts.BUCKETS_PER_DOUBLING;
# a test checks they agree): finer where one group holds many values (a percentile then
# sorts fewer rows of its bucket), coarser where there are many groups (fewer fact rows).
RECEIPT_BUCKETS = 16
PERSON_BUCKETS = 4
RESOLUTION_BUCKETS = 8
ANSWER_BUCKETS = 8
RESOLUTION_STATES = "('resolved', 'unsolvable')"
OPEN_STATES = (
    "('new', 'support', 'in_progress', 'waiting_customer', 'resubmission', 'waiting_department')"
)
LIVE_DAY = "2000-01-01"  # tickets.facts.LIVE_DAY: the day of facts about the present
FACT_COLUMNS = "day, channel_id, metric, kind, person_id, value, value2"
FACT_TYPE = (
    "TABLE (day date, channel_id bigint, metric varchar, kind varchar, person_id bigint,"
    " value integer, value2 integer)"
)
RECEIPT = "date_part('epoch', c.stopped_at - c.started_at)"
PERCEIVED = "greatest(date_part('epoch', c.stopped_at - c.posted_at), 0)"
RESOLUTION = "date_part('epoch', t.resolved_at - t.opened_at)"
ANSWER = "date_part('epoch', r.answered_at - r.created_at)"

FUNCTIONS = f"""
ALTER TABLE tickets_slaclock ADD COLUMN is_breached boolean NOT NULL DEFAULT false;
UPDATE tickets_slaclock c SET is_breached = true
 WHERE EXISTS (SELECT 1 FROM tickets_slabreach b WHERE b.clock_id = c.id);

CREATE FUNCTION sd_desk_day(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (at AT TIME ZONE '{DESK_TIME_ZONE}')::date $$;

-- Duration buckets: 0 below one second, then `per_doubling` buckets per doubling of the
-- time. Never decreasing with the duration, so ranks can be located bucket by bucket.
CREATE FUNCTION sd_duration_bucket(seconds double precision, per_doubling integer)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN seconds < 1 THEN 0
              ELSE 1 + floor(ln(seconds) * per_doubling / ln(2.0))::integer END
$$;

CREATE FUNCTION sd_clock_facts(c tickets_slaclock) RETURNS {FACT_TYPE}
LANGUAGE sql STABLE
AS $$
  SELECT sd_desk_day(c.started_at), t.channel_id, f.metric, f.kind, f.person_id, f.value, 0
  FROM tickets_ticket t
  CROSS JOIN LATERAL (VALUES
    ('met'::varchar, c.kind::varchar, 0::bigint, 0::integer,
     c.stopped_at IS NOT NULL AND NOT c.is_cancelled AND NOT c.is_breached),
    ('breached', c.kind, 0, 0, c.is_breached),
    ('receipt', c.kind, 0, sd_duration_bucket({RECEIPT}, {RECEIPT_BUCKETS}),
     c.stopped_at IS NOT NULL AND NOT c.is_cancelled),
    ('perceived', c.kind, 0, sd_duration_bucket({PERCEIVED}, {RECEIPT_BUCKETS}),
     c.stopped_at IS NOT NULL AND NOT c.is_cancelled AND c.posted_at IS NOT NULL),
    ('first_response_by', '', c.stopped_by_id, sd_duration_bucket({RECEIPT}, {PERSON_BUCKETS}),
     c.kind = 'first_response' AND c.stopped_by_id IS NOT NULL
       AND c.stopped_at IS NOT NULL AND NOT c.is_cancelled)
  ) AS f(metric, kind, person_id, value, applies)
  WHERE t.id = c.ticket_id AND f.applies
$$;

-- A resolved ticket counts on the day of its resolution; an open one is counted now (the
-- live backlog: state, assignee).
CREATE FUNCTION sd_ticket_facts(t tickets_ticket) RETURNS {FACT_TYPE}
LANGUAGE sql STABLE
AS $$
  SELECT f.day, t.channel_id, f.metric, f.kind, f.person_id, f.value, f.value2
  FROM (VALUES
    ('resolution_time'::varchar, sd_desk_day(t.resolved_at), ''::varchar, 0::bigint,
     sd_duration_bucket({RESOLUTION}, {RESOLUTION_BUCKETS}), 0::integer,
     t.state IN {RESOLUTION_STATES} AND t.resolved_at IS NOT NULL),
    ('resolution_depth', sd_desk_day(t.resolved_at), '', 0,
     t.transition_count::integer, t.handover_count::integer,
     t.state IN {RESOLUTION_STATES} AND t.resolved_at IS NOT NULL),
    ('open', '{LIVE_DAY}'::date, t.state, coalesce(t.assignee_id, 0), 0, 0,
     t.state IN {OPEN_STATES})
  ) AS f(metric, day, kind, person_id, value, value2, applies)
  WHERE f.applies
$$;

CREATE FUNCTION sd_reply_facts(r tickets_reply) RETURNS {FACT_TYPE}
LANGUAGE sql STABLE
AS $$
  SELECT sd_desk_day(r.sent_at), t.channel_id, 'replies_sent'::varchar, ''::varchar,
         r.author_id::bigint, 0, 0
  FROM tickets_ticket t
  WHERE t.id = r.ticket_id AND r.status = 'sent' AND r.sent_at IS NOT NULL
$$;

CREATE FUNCTION sd_mention_facts(m monitoring_mention) RETURNS {FACT_TYPE}
LANGUAGE sql STABLE
AS $$
  SELECT sd_desk_day(m.received_at), m.channel_id, 'mentions'::varchar, ''::varchar,
         0::bigint, 0, 0
  WHERE NOT m.is_own_account
$$;

-- A department request counts on the day it was sent, per department (person_id): every
-- request by status, and the answered ones by answer-time bucket and whether the answer
-- came by the deadline (value2 1 or 0).
CREATE FUNCTION sd_request_facts(r tickets_departmentrequest) RETURNS {FACT_TYPE}
LANGUAGE sql STABLE
AS $$
  SELECT sd_desk_day(r.created_at), t.channel_id, f.metric, f.kind, r.department_id::bigint,
         f.value, f.value2
  FROM tickets_ticket t
  CROSS JOIN LATERAL (VALUES
    ('requests'::varchar, r.status::varchar, 0::integer, 0::integer, true),
    ('answered', '', sd_duration_bucket({ANSWER}, {ANSWER_BUCKETS}),
     (r.answered_at <= r.due_at)::integer, r.answered_at IS NOT NULL)
  ) AS f(metric, kind, value, value2, applies)
  WHERE t.id = r.ticket_id AND f.applies
$$;

-- A breach marks its clock (the clock's triggers then move its outcome).
CREATE FUNCTION sd_breach_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tickets_slaclock c SET is_breached = true
   WHERE c.id IN (SELECT clock_id FROM new_rows) AND NOT c.is_breached;
  RETURN NULL;
END $$;
CREATE TRIGGER sd_breach_added AFTER INSERT ON tickets_slabreach
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sd_breach_added();

CREATE FUNCTION sd_breach_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tickets_slaclock c SET is_breached = false
   WHERE c.id IN (SELECT clock_id FROM old_rows) AND c.is_breached
     AND NOT EXISTS (SELECT 1 FROM tickets_slabreach b WHERE b.clock_id = c.id);
  RETURN NULL;
END $$;
CREATE TRIGGER sd_breach_removed AFTER DELETE ON tickets_slabreach
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sd_breach_removed();
"""

# source table, its facts function, the columns the facts read (an update of any other
# column fires nothing)
SOURCES = [
    (
        "tickets_slaclock",
        "sd_clock_facts",
        "ticket_id, kind, started_at, posted_at, stopped_at, is_cancelled, is_breached,"
        " stopped_by_id",
    ),
    (
        "tickets_ticket",
        "sd_ticket_facts",
        "state, assignee_id, channel_id, opened_at, resolved_at, transition_count, handover_count",
    ),
    ("tickets_reply", "sd_reply_facts", "ticket_id, status, sent_at, author_id"),
    ("monitoring_mention", "sd_mention_facts", "channel_id, received_at, is_own_account"),
    (
        "tickets_departmentrequest",
        "sd_request_facts",
        "ticket_id, department_id, status, created_at, due_at, answered_at",
    ),
]


# Every fact is written twice: for its channel and for all channels (channel_id 0), so a
# figure over all channels reads one row per key instead of one per channel.
ALL_CHANNELS = 0  # tickets.facts.ALL_CHANNELS
BOTH_CHANNELS = f"CROSS JOIN LATERAL (VALUES (f.channel_id), ({ALL_CHANNELS})) AS ch(id)"


def _row(alias: str, columns: str) -> str:
    return "ROW(" + ", ".join(f"{alias}.{name.strip()}" for name in columns.split(",")) + ")"


def _triggers(table: str, facts: str, columns: str) -> str:
    insert = f"INSERT INTO tickets_reportfact ({FACT_COLUMNS}, n, compacted)"
    return f"""
CREATE FUNCTION {facts}_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {insert}
  SELECT f.day, ch.id, f.metric, f.kind, f.person_id, f.value, f.value2, count(*), false
  FROM new_rows r CROSS JOIN LATERAL {facts}(r) f {BOTH_CHANNELS}
  GROUP BY 1, 2, 3, 4, 5, 6, 7;
  RETURN NULL;
END $$;
CREATE TRIGGER {facts}_added AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {facts}_added();

CREATE FUNCTION {facts}_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {insert}
  SELECT f.day, ch.id, f.metric, f.kind, f.person_id, f.value, f.value2, -count(*), false
  FROM old_rows r CROSS JOIN LATERAL {facts}(r) f {BOTH_CHANNELS}
  GROUP BY 1, 2, 3, 4, 5, 6, 7;
  RETURN NULL;
END $$;
CREATE TRIGGER {facts}_removed AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {facts}_removed();

CREATE FUNCTION {facts}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {insert}
  SELECT f.day, ch.id, f.metric, f.kind, f.person_id, f.value, f.value2, sum(f.n), false
  FROM (SELECT f.*, -1 AS n FROM {facts}(OLD) f
        UNION ALL SELECT f.*, 1 FROM {facts}(NEW) f) f {BOTH_CHANNELS}
  GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(f.n) <> 0;
  RETURN NULL;
END $$;
CREATE TRIGGER {facts}_changed AFTER UPDATE ON {table} FOR EACH ROW
  WHEN ({_row("OLD", columns)} IS DISTINCT FROM {_row("NEW", columns)})
  EXECUTE FUNCTION {facts}_changed();
"""


def _all_facts(compacted: str) -> str:
    """Every fact of every source row, summed per key."""
    parts = " UNION ALL ".join(
        f"SELECT f.day, ch.id AS channel_id, f.metric, f.kind, f.person_id, f.value, f.value2"
        f" FROM {table} r CROSS JOIN LATERAL {facts}(r) f {BOTH_CHANNELS}"
        for table, facts, _columns in SOURCES
    )
    return (
        f"SELECT {FACT_COLUMNS}, count(*)::integer AS n{compacted} FROM ({parts}) facts"
        f" GROUP BY {FACT_COLUMNS}"
    )


MAINTENANCE = f"""
-- Compute every fact again. Writers wait for the lock (they add facts), so nothing is
-- counted twice or missed; readers go on reading the old rows until the commit.
CREATE FUNCTION sd_rebuild_report_facts() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE written bigint;
BEGIN
  LOCK TABLE tickets_reportfact IN EXCLUSIVE MODE;
  UPDATE tickets_slaclock c SET is_breached = NOT c.is_breached
   WHERE c.is_breached <> EXISTS (SELECT 1 FROM tickets_slabreach b WHERE b.clock_id = c.id);
  DELETE FROM tickets_reportfact;
  INSERT INTO tickets_reportfact ({FACT_COLUMNS}, n, compacted) {_all_facts(", true")};
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;

-- Keys whose stored sum differs from the facts of the source rows (empty when exact).
CREATE FUNCTION sd_report_facts_drift()
RETURNS TABLE (day date, channel_id bigint, metric varchar, kind varchar, person_id bigint,
               value integer, value2 integer, stored bigint, computed bigint)
LANGUAGE sql STABLE AS $$
  WITH stored AS (
    SELECT {FACT_COLUMNS}, sum(n)::bigint AS n FROM tickets_reportfact GROUP BY {FACT_COLUMNS}
  ), computed AS ({_all_facts("")})
  SELECT {", ".join(f"coalesce(s.{name}, c.{name})" for name in FACT_COLUMNS.split(", "))},
         coalesce(s.n, 0), coalesce(c.n, 0)
  FROM stored s FULL JOIN computed c USING ({FACT_COLUMNS})
  WHERE coalesce(s.n, 0) <> coalesce(c.n, 0)
$$;
"""

# Percentiles read the source rows of one bucket in a range through these.
BUCKET_INDEXES = [
    (
        "slaclock_receipt_bucket",
        f"tickets_slaclock (kind, sd_duration_bucket({RECEIPT.replace('c.', '')},"
        f" {RECEIPT_BUCKETS}), started_at) INCLUDE (stopped_at, ticket_id)"
        " WHERE stopped_at IS NOT NULL AND NOT is_cancelled",
    ),
    (
        "slaclock_perceived_bucket",
        f"tickets_slaclock (kind, sd_duration_bucket({PERCEIVED.replace('c.', '')},"
        f" {RECEIPT_BUCKETS}), started_at) INCLUDE (stopped_at, posted_at, ticket_id)"
        " WHERE stopped_at IS NOT NULL AND NOT is_cancelled AND posted_at IS NOT NULL",
    ),
    (
        "slaclock_first_response_by_bucket",
        f"tickets_slaclock (stopped_by_id, sd_duration_bucket({RECEIPT.replace('c.', '')},"
        f" {PERSON_BUCKETS}), started_at) INCLUDE (stopped_at, ticket_id)"
        " WHERE kind = 'first_response' AND stopped_by_id IS NOT NULL"
        " AND stopped_at IS NOT NULL AND NOT is_cancelled",
    ),
    (
        "ticket_resolution_bucket",
        f"tickets_ticket (sd_duration_bucket({RESOLUTION.replace('t.', '')},"
        f" {RESOLUTION_BUCKETS}), resolved_at) INCLUDE (opened_at, channel_id)"
        f" WHERE state IN {RESOLUTION_STATES} AND resolved_at IS NOT NULL",
    ),
    (
        "deptrequest_answer_bucket",
        f"tickets_departmentrequest (department_id, sd_duration_bucket("
        f"{ANSWER.replace('r.', '')}, {ANSWER_BUCKETS}), created_at)"
        " INCLUDE (answered_at, ticket_id) WHERE answered_at IS NOT NULL",
    ),
    # department_times(): open requests past their deadline (the few; not all open ones)
    (
        "deptrequest_open_due",
        "tickets_departmentrequest (due_at) INCLUDE (created_at, department_id, ticket_id)"
        " WHERE status = 'open'",
    ),
    # at_risk_clocks(), live_counts(): running clocks that were warned (not all running ones)
    (
        "slaclock_running_warned",
        "tickets_slaclock (due_at) WHERE stopped_at IS NULL AND warned_at IS NOT NULL",
    ),
]

# The full-range aggregates they served read the facts now (definitions kept for reverse).
REPLACED_INDEXES = [
    (
        "slaclock_started_outcome",
        "tickets_slaclock (started_at)"
        " INCLUDE (kind, stopped_at, is_cancelled, posted_at, stopped_by_id)",
    ),
    (
        "slaclock_stopped_kind_started",
        "tickets_slaclock (kind, started_at) INCLUDE (stopped_at, posted_at)"
        " WHERE stopped_at IS NOT NULL AND NOT is_cancelled",
    ),
    (
        "slaclock_first_response_by",
        "tickets_slaclock (stopped_by_id, started_at) INCLUDE (stopped_at)"
        " WHERE kind = 'first_response' AND stopped_by_id IS NOT NULL AND NOT is_cancelled",
    ),
    (
        "ticket_resolution",
        "tickets_ticket (resolved_at)"
        " INCLUDE (opened_at, channel_id, transition_count, handover_count)"
        f" WHERE state IN {RESOLUTION_STATES}",
    ),
    (
        "mention_received_channel",
        "monitoring_mention (received_at) INCLUDE (channel_id) WHERE NOT is_own_account",
    ),
    ("deptrequest_created", "tickets_departmentrequest (created_at)"),
    (
        "reply_sent_author",
        "tickets_reply (sent_at) INCLUDE (author_id, ticket_id) WHERE status = 'sent'",
    ),
]

FORWARD = "\n".join(
    [
        FUNCTIONS,
        *(_triggers(*source) for source in SOURCES),
        MAINTENANCE,
        *(f"CREATE INDEX {name} ON {definition};" for name, definition in BUCKET_INDEXES),
        *(f"DROP INDEX IF EXISTS {name};" for name, _definition in REPLACED_INDEXES),
        "SELECT sd_rebuild_report_facts();",
    ]
)

BACKWARD = "\n".join(
    [
        *(f"CREATE INDEX IF NOT EXISTS {name} ON {d};" for name, d in REPLACED_INDEXES),
        *(f"DROP INDEX IF EXISTS {name};" for name, _definition in BUCKET_INDEXES),
        "DROP FUNCTION sd_rebuild_report_facts(), sd_report_facts_drift();",
        *(
            f"DROP TRIGGER {facts}_{event} ON {table}; DROP FUNCTION {facts}_{event}();"
            for table, facts, _columns in SOURCES
            for event in ("added", "removed", "changed")
        ),
        "DROP TRIGGER sd_breach_added ON tickets_slabreach; DROP FUNCTION sd_breach_added();",
        "DROP TRIGGER sd_breach_removed ON tickets_slabreach; DROP FUNCTION sd_breach_removed();",
        "DROP FUNCTION sd_clock_facts(tickets_slaclock), sd_ticket_facts(tickets_ticket),"
        " sd_reply_facts(tickets_reply), sd_mention_facts(monitoring_mention),"
        " sd_request_facts(tickets_departmentrequest);",
        "DROP FUNCTION sd_duration_bucket(double precision, integer), sd_desk_day(timestamptz);",
        "ALTER TABLE tickets_slaclock DROP COLUMN is_breached;",
    ]
)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_benchmark_indexes"),
        ("monitoring", "0002_link_mentions_to_tickets"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportFact",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("channel_id", models.BigIntegerField(verbose_name="channel")),
                ("metric", models.CharField(max_length=24, verbose_name="metric")),
                (
                    "kind",
                    models.CharField(blank=True, default="", max_length=32, verbose_name="kind"),
                ),
                ("person_id", models.BigIntegerField(default=0, verbose_name="person")),
                ("value", models.IntegerField(default=0, verbose_name="value")),
                ("value2", models.IntegerField(default=0, verbose_name="second value")),
                ("n", models.IntegerField(verbose_name="count")),
                ("compacted", models.BooleanField(default=False, verbose_name="compacted")),
            ],
            options={
                "verbose_name": "report fact",
                "verbose_name_plural": "report facts",
                "indexes": [
                    models.Index(
                        fields=["metric", "channel_id", "day"],
                        include=("kind", "person_id", "value", "value2", "n"),
                        name="reportfact_metric_channel_day",
                    ),
                    models.Index(
                        condition=models.Q(("compacted", False)),
                        fields=["day"],
                        name="reportfact_added",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("compacted", True)),
                        fields=(
                            "metric",
                            "day",
                            "channel_id",
                            "kind",
                            "person_id",
                            "value",
                            "value2",
                        ),
                        name="reportfact_unique_compacted",
                    )
                ],
            },
        ),
        migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD),
    ]
