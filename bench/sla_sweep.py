"""SLA sweep benchmark (issue: SLA engine).

1. Sweep cost: over 1,000,000 tickets, 200,000 of them with running clocks and 100 clocks
   due, `run_sweeps(now)` (the SLA, Wiedervorlage and auto-close sweeps that beat runs) is
   timed repeatedly (the 100 due clocks are restored between runs). Target: median under
   100 ms.
2. Detection latency: a real Celery worker and a real beat (separate processes, default
   5-second sweep) run against the same database; 50 clocks fall due over the next minute;
   the time from each deadline to its recorded breach is measured. Target: median and
   maximum under 7 s.

Usage: .venv/bin/python bench/sla_sweep.py [--tickets 1000000] [--running 200000]
       [--due 100] [--runs 21] [--latency-clocks 50] [--keep]
It uses its own database (DATABASE_URL with the name replaced by sd_bench_sla) and prints a
table; the figures are also written to bench/results/sla_sweep.json.

With `--shared DATABASE` (how `python -m bench.run` calls it) it seeds nothing and runs on
the suite's seeded database instead (bench.seed: 1M tickets of realistic shape, 200,000 of
them with a running clock): one untimed sweep first records what fell due since the seeding
(the desk's own catch-up), then `--due` running clocks far from their deadline are moved
past it for the timed sweeps (at a fixed `now`) and `--latency-clocks` others fall due
during the latency run. Afterwards those clocks, their tickets' priorities and the rows the
sweeps wrote for them are put back, so the seeded database can be reused.
Worker and beat use Redis db 11 (bench.common).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import load_average, redis_url  # noqa: E402


def bench_database_url(name: str) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return urlunsplit(parts._replace(path="/" + name))


def prepare_environment(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")


def recreate_database(database_url: str) -> None:
    import psycopg2

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


SEED_SQL = """
INSERT INTO monitoring_channel (slug, name, platform, is_active, own_accounts, keywords,
    base_url, config, credentials, callback_url, webhook_secret, private_replies_need_review,
    poll_interval_seconds, cursor, last_error, is_healthy, consecutive_failures, created_at)
VALUES ('bench', 'Bench', 'webhook', true, '{}', '{}', '', '{}', '', '', '', false, 60, '', '',
    true, 0, now());

INSERT INTO crm_customer (display_name, created_at)
SELECT 'Kunde ' || g, now() FROM generate_series(1, 10000) AS g;

-- Tickets 1..running are open with a running clock; the rest are closed history.
INSERT INTO tickets_ticket (state, channel_id, customer_id, priority, is_private, preview,
    mention_count, opened_at, posted_at, last_mention_at, state_changed_at, updated_at,
    resolved_at, no_service_case, dismiss_reason, handover_reference, starts_clocks,
    sla_due_at)
SELECT CASE WHEN g <= %(running)s THEN (ARRAY['new','support','in_progress'])[1 + g %% 3]
            ELSE (ARRAY['resolved','dismissed','unsolvable'])[1 + g %% 3] END,
       (SELECT id FROM monitoring_channel WHERE slug = 'bench'),
       (SELECT min(id) FROM crm_customer) + g %% 10000,
       'normal', false, 'Bench-Erwähnung ' || g, 1,
       now() - (g %% 86400) * interval '1 second' - interval '1 hour',
       now() - (g %% 86400) * interval '1 second' - interval '1 hour',
       now() - (g %% 86400) * interval '1 second' - interval '1 hour',
       now() - interval '1 hour', now() - interval '1 hour',
       CASE WHEN g > %(running)s THEN now() - interval '30 minutes' END,
       false, '', '', true, NULL
FROM generate_series(1, %(tickets)s) AS g;

-- One first-response clock per ticket: running (due in 1 to 48 hours) for open tickets,
-- stopped for closed ones.
INSERT INTO tickets_slaclock (ticket_id, kind, started_at, posted_at, warn_at, due_at,
    stopped_at, warned_at, is_cancelled)
SELECT t.id, 'first_response', now() - interval '1 minute', now() - interval '2 minutes',
       now() + interval '1 hour' + (t.id %% 172800) * interval '1 second' * 0.8,
       now() + interval '1 hour' + (t.id %% 172800) * interval '1 second',
       CASE WHEN t.state IN ('resolved', 'dismissed', 'unsolvable')
            THEN t.opened_at + interval '5 minutes' END,
       NULL, false
FROM tickets_ticket t;
"""


def seed(tickets: int, running: int) -> None:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, {"tickets": tickets, "running": running})
        cursor.execute(
            """UPDATE tickets_ticket t SET sla_due_at = c.due_at FROM tickets_slaclock c
               WHERE c.ticket_id = t.id AND c.stopped_at IS NULL"""
        )
        cursor.execute("ANALYZE")
    print(
        f"seeded {tickets:,} tickets ({running:,} running clocks) in "
        f"{time.monotonic() - started:.0f} s"
    )


def make_due(count: int, now_sql: str = "now()") -> list[int]:
    """Move `count` running clocks past their deadline (warned already, not breached)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE tickets_slaclock SET due_at = {now_sql} - interval '30 seconds',
                    warn_at = {now_sql} - interval '3 minutes',
                    warned_at = {now_sql} - interval '2 minutes'
                WHERE id IN (SELECT id FROM tickets_slaclock WHERE stopped_at IS NULL
                             ORDER BY id LIMIT %s)
                RETURNING id""",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def reset_due(clock_ids: list[int]) -> None:
    """Undo what a sweep recorded for `clock_ids`, so the next run has the same work."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_slabreach WHERE clock_id = ANY(%s)", [clock_ids])
        cursor.execute("DELETE FROM tickets_ticketevent WHERE kind = 'sla_breach'")
        cursor.execute("DELETE FROM tickets_notification")
        cursor.execute(
            """UPDATE tickets_ticket SET priority = 'normal' WHERE id IN
               (SELECT ticket_id FROM tickets_slaclock WHERE id = ANY(%s))""",
            [clock_ids],
        )


def time_sweeps(runs: int, due: int) -> dict[str, float]:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from tickets import actions

    lead, _ = User.objects.get_or_create(username="bench-lead", defaults={"email": "l@x.test"})
    lead.groups.add(Group.objects.get(name="team_lead"))
    clock_ids = make_due(due)
    durations, idle = [], []
    for _run in range(runs):
        started = time.perf_counter()
        recorded = actions.run_sweeps(now=timezone.now())
        durations.append((time.perf_counter() - started) * 1000)
        assert recorded == due, f"expected {due} breaches, recorded {recorded}"
        started = time.perf_counter()
        actions.run_sweeps(now=timezone.now())  # nothing due any more
        idle.append((time.perf_counter() - started) * 1000)
        reset_due(clock_ids)
    return {
        "sweep_median_ms": statistics.median(durations),
        "sweep_p95_ms": sorted(durations)[int(len(durations) * 0.95) - 1],
        "sweep_max_ms": max(durations),
        "idle_sweep_median_ms": statistics.median(idle),
    }


def measure_latency(
    clocks: int, database_url: str, clock_ids: list[int] | None = None
) -> dict[str, float]:
    """Real worker + beat processes; `clocks` deadlines spread over the next 50 seconds
    (the newest running clocks, or `clock_ids` when given)."""
    from django.db import connection

    from tickets.models import SlaBreach

    broker = redis_url()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "POLL_DISPATCH_SECONDS": "3600",
    }
    schedule = ROOT / "bench" / "results" / "beat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--purge",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(schedule),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)  # let both processes connect before the first deadline
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE tickets_slaclock SET
                       due_at = clock_timestamp() + interval '10 seconds'
                                + (row_number * interval '1 second'),
                       warn_at = clock_timestamp() - interval '1 minute',
                       warned_at = clock_timestamp()
                   FROM (SELECT clock_id, row_number() OVER (ORDER BY clock_id) AS row_number
                         FROM (SELECT id AS clock_id FROM tickets_slaclock
                               WHERE stopped_at IS NULL
                                 AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s))
                               ORDER BY id DESC LIMIT %(clocks)s) AS newest
                        ) AS chosen
                   WHERE tickets_slaclock.id = chosen.clock_id
                   RETURNING id""",
                {"ids": clock_ids, "clocks": clocks},
            )
            ids = [row[0] for row in cursor.fetchall()]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if SlaBreach.objects.filter(clock_id__in=ids).count() == len(ids):
                break
            time.sleep(1)
        lags = [
            (breach.detected_at - breach.due_at).total_seconds()
            for breach in SlaBreach.objects.filter(clock_id__in=ids)
        ]
    finally:
        for process in (beat, worker):
            process.terminate()
        for process in (beat, worker):
            process.wait(timeout=30)
    if len(lags) != len(ids):
        raise SystemExit(f"only {len(lags)} of {len(ids)} breaches recorded within 120 s")
    return {
        "latency_clocks": len(lags),
        "latency_median_s": statistics.median(lags),
        "latency_max_s": max(lags),
    }


# --------------------------------------------------------------------------- shared database


def _catch_up() -> tuple[int, float]:
    """Sweep once at the real time: what fell due since the database was seeded is recorded
    (as the desk's first sweep after a pause would). Returns (rows recorded, ms)."""
    from django.utils import timezone

    from tickets import actions

    started = time.perf_counter()
    recorded = actions.run_sweeps(now=timezone.now())
    return recorded, (time.perf_counter() - started) * 1000


def _choose_clocks(count: int, now: Any) -> list[tuple]:
    """`count` running, unwarned, unbreached clocks whose deadline is at least a day away,
    with what a sweep changes: (clock id, warn_at, due_at, warned_at, ticket id, priority)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.id, c.warn_at, c.due_at, c.warned_at, t.id, t.priority
               FROM tickets_slaclock c JOIN tickets_ticket t ON t.id = c.ticket_id
               WHERE c.stopped_at IS NULL AND c.warned_at IS NULL
                 AND c.due_at > %s + interval '1 day'
                 AND NOT EXISTS (SELECT 1 FROM tickets_slabreach b WHERE b.clock_id = c.id)
                 AND NOT EXISTS (SELECT 1 FROM tickets_slaclock o WHERE o.ticket_id = t.id
                                 AND o.stopped_at IS NULL AND o.id <> c.id)
               ORDER BY c.id LIMIT %s""",
            [now, count],
        )
        rows = cursor.fetchall()
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} running clocks far from their deadline: reseed")
    return rows


def _markers() -> dict[str, int]:
    from django.db import connection

    markers = {}
    with connection.cursor() as cursor:
        for table in ("tickets_slabreach", "tickets_ticketevent", "tickets_notification"):
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            markers[table] = cursor.fetchone()[0]
    return markers


def _undo(snapshot: list[tuple], markers: dict[str, int]) -> None:
    """Put the chosen clocks and their tickets back as they were and delete what sweeps wrote
    for them after `markers` (breaches, breach events, notifications)."""
    from django.db import connection, transaction

    clock_ids = [row[0] for row in snapshot]
    ticket_ids = [row[4] for row in snapshot]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tickets_slabreach WHERE id > %s AND clock_id = ANY(%s)",
            [markers["tickets_slabreach"], clock_ids],
        )
        cursor.execute(
            "DELETE FROM tickets_ticketevent WHERE id > %s AND ticket_id = ANY(%s)",
            [markers["tickets_ticketevent"], ticket_ids],
        )
        cursor.execute(
            "DELETE FROM tickets_notification WHERE id > %s AND ticket_id = ANY(%s)",
            [markers["tickets_notification"], ticket_ids],
        )
        cursor.execute(
            """UPDATE tickets_slaclock c SET warn_at = s.warn_at, due_at = s.due_at,
                   warned_at = s.warned_at
               FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[],
                           %s::timestamptz[]) AS s(id, warn_at, due_at, warned_at)
               WHERE c.id = s.id""",
            [clock_ids, [r[1] for r in snapshot], [r[2] for r in snapshot],
             [r[3] for r in snapshot]],
        )  # fmt: skip
        cursor.execute(
            """UPDATE tickets_ticket t SET priority = s.priority
               FROM unnest(%s::bigint[], %s::text[]) AS s(id, priority) WHERE t.id = s.id""",
            [ticket_ids, [row[5] for row in snapshot]],
        )


def _time_shared_sweeps(snapshot: list[tuple], runs: int, now: Any) -> dict[str, float]:
    """Move the snapshot's clocks past their deadline (warned already) and time `runs`
    sweeps at the fixed `now`, undoing each sweep's work before the next."""
    from django.db import connection

    from tickets import actions

    clock_ids = [row[0] for row in snapshot]
    durations, idle = [], []
    for _run in range(runs):
        markers = _markers()
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE tickets_slaclock SET due_at = %(now)s - interval '30 seconds',
                       warn_at = %(now)s - interval '3 minutes',
                       warned_at = %(now)s - interval '2 minutes'
                   WHERE id = ANY(%(ids)s)""",
                {"now": now, "ids": clock_ids},
            )
        started = time.perf_counter()
        recorded = actions.run_sweeps(now=now)
        durations.append((time.perf_counter() - started) * 1000)
        if recorded != len(clock_ids):
            raise SystemExit(f"expected {len(clock_ids)} breaches, recorded {recorded}")
        started = time.perf_counter()
        actions.run_sweeps(now=now)  # nothing due any more
        idle.append((time.perf_counter() - started) * 1000)
        _undo(snapshot, markers)
    return {
        "sweep_median_ms": statistics.median(durations),
        "sweep_p95_ms": sorted(durations)[max(int(len(durations) * 0.95) - 1, 0)],
        "sweep_max_ms": max(durations),
        "idle_sweep_median_ms": statistics.median(idle),
    }


def run_shared(database: str, runs: int, due: int, latency_clocks: int) -> dict[str, Any]:
    """The sweep and latency figures on the suite's seeded database (see the docstring)."""
    from bench.common import database_url, setup_django

    setup_django(database)
    from django.db import connection
    from django.utils import timezone

    from tickets.choices import OPEN_STATES
    from tickets.models import SlaClock, Ticket

    caught_up, catch_up_ms = _catch_up()
    now = timezone.now()
    snapshot = _choose_clocks(due + latency_clocks, now)
    markers = _markers()
    figures: dict[str, Any] = {
        "database": database,
        "tickets": Ticket.objects.count(),
        "open_tickets": Ticket.objects.filter(state__in=OPEN_STATES).count(),
        "running_clocks": SlaClock.objects.filter(stopped_at__isnull=True).count(),
        "due": due,
        "catch_up_recorded": caught_up,
        "catch_up_ms": round(catch_up_ms, 1),
    }
    try:
        figures |= _time_shared_sweeps(snapshot[:due], runs, now)
        connection.close()  # the worker and beat write meanwhile; a fresh session after
        figures |= measure_latency(
            latency_clocks, database_url(database), [row[0] for row in snapshot[due:]]
        )
    finally:
        _undo(snapshot, markers)
    figures["load_average"] = load_average()
    return figures


def print_figures(figures: dict[str, Any]) -> None:
    targets = {"sweep_median_ms": 100, "latency_median_s": 7, "latency_max_s": 7}
    print(f"\n{'figure':<24}{'value':>12}  target")
    for name, value in figures.items():
        if not isinstance(value, int | float):
            continue
        target = targets.get(name)
        verdict = "" if target is None else ("  ok" if value < target else "  MISSED")
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"{name:<24}{shown:>12}  {'< ' + str(target) if target else ''}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--running", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--latency-clocks", type=int, default=50)
    parser.add_argument("--database", default="sd_bench_sla")
    parser.add_argument("--keep", action="store_true", help="reuse the seeded database")
    parser.add_argument("--shared", metavar="DATABASE", help="run on the suite's seeded database")
    parser.add_argument("--json", default="sla_sweep.json", help="file under bench/results")
    arguments = parser.parse_args()
    if arguments.shared:
        figures = run_shared(
            arguments.shared, arguments.runs, arguments.due, arguments.latency_clocks
        )
        print_figures(figures)
        out = ROOT / "bench" / "results" / arguments.json
        out.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nwritten to {out.relative_to(ROOT)}")
        return

    database_url = bench_database_url(arguments.database)
    prepare_environment(database_url)
    if not arguments.keep:
        recreate_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tickets.models import Ticket

    if not arguments.keep or not Ticket.objects.exists():
        seed(arguments.tickets, arguments.running)
    figures = {
        "tickets": arguments.tickets,
        "running_clocks": arguments.running,
        "due": arguments.due,
    }
    figures |= time_sweeps(arguments.runs, arguments.due)
    figures |= measure_latency(arguments.latency_clocks, database_url)

    figures["load_average"] = load_average()
    print_figures(figures)
    out = ROOT / "bench" / "results" / arguments.json
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
