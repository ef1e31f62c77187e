"""SLA sweep benchmark (issue: SLA engine).

1. Sweep cost: over 1,000,000 tickets, 200,000 of them with running clocks and 100 clocks
   due, `enforce_sla(now)` is timed repeatedly (the 100 due clocks are restored between
   runs). Target: median under 100 ms.
2. Detection latency: a real Celery worker and a real beat (separate processes, default
   5-second sweep) run against the same database; 50 clocks fall due over the next minute;
   the time from each deadline to its recorded breach is measured. Target: median and
   maximum under 7 s.

Usage: .venv/bin/python bench/sla_sweep.py [--tickets 1000000] [--running 200000]
       [--due 100] [--runs 21] [--latency-clocks 50] [--keep]
It uses its own database (DATABASE_URL with the name replaced by sd_bench_sla) and prints a
table; the figures are also written to bench/results/sla_sweep.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
        recorded = actions.enforce_sla(now=timezone.now())
        durations.append((time.perf_counter() - started) * 1000)
        assert recorded == due, f"expected {due} breaches, recorded {recorded}"
        started = time.perf_counter()
        actions.enforce_sla(now=timezone.now())  # nothing due any more
        idle.append((time.perf_counter() - started) * 1000)
        reset_due(clock_ids)
    return {
        "sweep_median_ms": statistics.median(durations),
        "sweep_p95_ms": sorted(durations)[int(len(durations) * 0.95) - 1],
        "sweep_max_ms": max(durations),
        "idle_sweep_median_ms": statistics.median(idle),
    }


def measure_latency(clocks: int, database_url: str) -> dict[str, float]:
    """Real worker + beat processes; `clocks` deadlines spread over the next 50 seconds."""
    from django.db import connection

    from tickets.models import SlaBreach

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/15"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
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
                               WHERE stopped_at IS NULL ORDER BY id DESC LIMIT %s) AS newest
                        ) AS chosen
                   WHERE tickets_slaclock.id = chosen.clock_id
                   RETURNING id""",
                [clocks],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--running", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--latency-clocks", type=int, default=50)
    parser.add_argument("--database", default="sd_bench_sla")
    parser.add_argument("--keep", action="store_true", help="reuse the seeded database")
    arguments = parser.parse_args()

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

    targets = {"sweep_median_ms": 100, "latency_median_s": 7, "latency_max_s": 7}
    print(f"\n{'figure':<24}{'value':>12}  target")
    for name, value in figures.items():
        target = targets.get(name)
        verdict = "" if target is None else ("  ok" if value < target else "  MISSED")
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"{name:<24}{shown:>12}  {'< ' + str(target) if target else ''}{verdict}")
    out = ROOT / "bench" / "results" / "sla_sweep.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
