"""Ingest benchmark (issue: inbound mentions and the REST API).

Pushes mentions through the real HTTP API (gunicorn, 2 workers x 2 threads, rate limit
raised) one per request and in batches of 500, and compares mentions per second with a
baseline measured in the same run on the same PostgreSQL: the same rows (a mention and its
ticket) written straight into the same tables and indexes with multi-row
`INSERT ... VALUES`, 1,000 rows per transaction over one connection, and with COPY.
Targets (issue 20 §4): batched API intake at least 0.5 x the INSERT baseline, and the
single-mention push's p99 latency under 4 clients below 50 ms.

Usage: .venv/bin/python bench/ingest.py [--count 50000] [--single 5000] [--clients 4]
It uses its own database on the server of DATABASE_URL (the name replaced by
sd_bench_ingest, dropped and created again), prints a table and writes
bench/results/ingest.json. Standard library only (plus the project's own dependencies).
"""

import argparse
import http.client
import io
import json
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (importable once the path above is set)
    bench_environment,
    free_port,
    manage,
    percentile,
    recreate_database,
)
from bench.common import database_url as bench_database  # noqa: E402

DATABASE_NAME = "sd_bench_ingest"
BATCH_SIZE = 500  # mentions per API request in batched mode
BASELINE_ROWS_PER_TRANSACTION = 1_000
CHANNEL = "bench"
BATCHED_RATIO_TARGET = 0.5  # batched API intake / INSERT baseline (issue 20 §4)
SINGLE_P99_TARGET_MS = 50.0  # single-mention push under --clients (issue 20 §4)


def ingest_environment(database: str = DATABASE_NAME) -> dict[str, str]:
    """The benchmark environment (bench.common), with the API's rate limit out of the way."""
    return {
        **bench_environment(database),
        "API_RATE_LIMIT": "100000000/min",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def prepare(env: dict[str, str]) -> str:
    """Migrate, create the webhook channel and an api client; returns the client's token."""
    manage(env, "migrate", "--no-input")
    manage(env, "create_api_client", "bench-admin", "--superuser")
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model;"
        "from monitoring import actions;"
        "admin = get_user_model().objects.get(username='bench-admin');"
        f"actions.create_channel(actor=admin, slug='{CHANNEL}', name='Bench', "
        "platform='webhook', own_accounts=['desk_hilft'])",
    )
    return manage(env, "create_api_client", "bench-client")


def start_gunicorn(
    env: dict[str, str],
    port: int,
    *,
    gunicorn: Path = ROOT / ".venv" / "bin" / "gunicorn",
    app: str = "servicedesk.wsgi",
    cwd: Path = ROOT,
    ready_path: str = "/healthz/",
) -> subprocess.Popen:
    """2 workers x 2 threads of `app`; returns once `ready_path` answers below 500."""
    server = subprocess.Popen(
        [str(gunicorn), app, "-w", "2", "--threads", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        env=env,
        cwd=cwd,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", ready_path)
            if connection.getresponse().status < 500:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not come up")


def mention(number: int, prefix: str, created_at: str) -> dict:
    return {
        "channel": CHANNEL,
        "external_id": f"{prefix}-{number}",
        "author": {"handle": f"@kunde{number % 20_000}", "display_name": f"Kunde {number}"},
        "text": f"Mein Paket {number} ist nicht angekommen, Sendungsnummer PB{number:09d}.",
        "created_at": created_at,
        "url": f"https://social.example/p/{prefix}/{number}",
        "raw": {"id": number, "lang": "de"},
    }


@dataclass(frozen=True)
class PushRun:
    seconds: float
    statuses: list[int]
    latencies_ms: list[float]  # one per request, in the order they finished


def push_run(
    port: int,
    token: str,
    bodies: list[bytes],
    clients: int,
    *,
    path: str = "/api/v1/mentions/",
) -> PushRun:
    """POST every body to `path` with `Authorization: Token …` (each thread keeps one
    connection); the wall time, the statuses and each request's latency."""
    work: queue.Queue[bytes] = queue.Queue()
    for body in bodies:
        work.put(body)
    statuses: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                break
            sent = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            took = (time.perf_counter() - sent) * 1000
            with lock:
                statuses.append(response.status)
                latencies.append(took)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return PushRun(time.perf_counter() - started, statuses, latencies)


def push(port: int, token: str, bodies: list[bytes], clients: int) -> tuple[float, list[int]]:
    """POST every body to the mentions endpoint; returns (seconds, statuses)."""
    run = push_run(port, token, bodies, clients)
    return run.seconds, run.statuses


# --------------------------------------------------------------------------- baseline


TICKET_COLUMNS = (
    "channel_id, customer_id, state, priority, is_private, preview, mention_count, opened_at, "
    "posted_at, last_mention_at, state_changed_at, updated_at, no_service_case, dismiss_reason, "
    "handover_reference, starts_clocks, assigned_by_routing"
)
MENTION_COLUMNS = (
    "channel_id, external_id, author_handle, author_display_name, author_platform_user_id, "
    "text, created_at, received_at, url, in_reply_to, ticket_id, is_private, is_own_account, "
    "is_hidden, language, raw"
)


def _baseline_rows(count: int, prefix: str, channel_id: int, customer_id: int) -> list:
    now = datetime.now(UTC)
    rows = []
    for number in range(count):
        body = mention(number, prefix, now.isoformat())
        ticket = (channel_id, customer_id, "new", "normal", False, body["text"][:280], 1,
                  now, now, now, now, now, False, "", "", True, False)  # fmt: skip
        rows.append((ticket, body))
    return rows


def _mention_row(body: dict, channel_id: int, ticket_id: int, now: datetime) -> tuple:
    return (channel_id, body["external_id"], body["author"]["handle"],
            body["author"]["display_name"], "", body["text"], now, now, body["url"], "",
            ticket_id, False, False, False, "", json.dumps(body["raw"]))  # fmt: skip


def baseline_insert(database_url: str, count: int) -> float:
    """Multi-row INSERT ... VALUES of a ticket and its mention per row, 1,000 rows per
    transaction, one connection."""
    import psycopg2
    from psycopg2.extras import execute_values

    connection = psycopg2.connect(database_url)
    cursor = connection.cursor()
    cursor.execute("SELECT id FROM monitoring_channel WHERE slug = %s", [CHANNEL])
    channel_id = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO crm_customer (display_name, created_at) VALUES ('bench', now()) RETURNING id"
    )
    customer_id = cursor.fetchone()[0]
    connection.commit()
    rows = _baseline_rows(count, "insert", channel_id, customer_id)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, count, BASELINE_ROWS_PER_TRANSACTION):
        chunk = rows[start : start + BASELINE_ROWS_PER_TRANSACTION]
        ticket_ids = execute_values(
            cursor,
            f"INSERT INTO tickets_ticket ({TICKET_COLUMNS}) VALUES %s RETURNING id",
            [ticket for ticket, _body in chunk],
            page_size=len(chunk),
            fetch=True,
        )
        execute_values(
            cursor,
            f"INSERT INTO monitoring_mention ({MENTION_COLUMNS}) VALUES %s",
            [
                _mention_row(body, channel_id, ticket_id, now)
                for (_ticket, body), (ticket_id,) in zip(chunk, ticket_ids, strict=True)
            ],
            page_size=len(chunk),
        )
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _copy_text(rows: list[tuple]) -> io.StringIO:
    def cell(value: object) -> str:
        if value is None:
            return r"\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, datetime):
            return value.isoformat()
        text = str(value)
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    return io.StringIO("".join("\t".join(map(cell, row)) + "\n" for row in rows))


def baseline_copy(database_url: str, count: int) -> float:
    """COPY of the same rows (tickets with ids taken from their sequence first), one
    transaction per 1,000 rows."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    cursor = connection.cursor()
    cursor.execute("SELECT id FROM monitoring_channel WHERE slug = %s", [CHANNEL])
    channel_id = cursor.fetchone()[0]
    cursor.execute("SELECT id FROM crm_customer WHERE display_name = 'bench' LIMIT 1")
    customer_id = cursor.fetchone()[0]
    rows = _baseline_rows(count, "copy", channel_id, customer_id)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, count, BASELINE_ROWS_PER_TRANSACTION):
        chunk = rows[start : start + BASELINE_ROWS_PER_TRANSACTION]
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('tickets_ticket', 'id')) "
            "FROM generate_series(1, %s)",
            [len(chunk)],
        )
        ticket_ids = [row[0] for row in cursor.fetchall()]
        cursor.copy_expert(
            f"COPY tickets_ticket (id, {TICKET_COLUMNS}) FROM STDIN",
            _copy_text(
                [
                    (ticket_id, *ticket)
                    for ticket_id, (ticket, _b) in zip(ticket_ids, chunk, strict=True)
                ]
            ),
        )
        cursor.copy_expert(
            f"COPY monitoring_mention ({MENTION_COLUMNS}) FROM STDIN",
            _copy_text(
                [
                    _mention_row(body, channel_id, ticket_id, now)
                    for ticket_id, (_t, body) in zip(ticket_ids, chunk, strict=True)
                ]  # fmt: skip
            ),
        )
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50_000, help="mentions, batched mode")
    parser.add_argument("--single", type=int, default=5_000, help="mentions, one per request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--database", default=DATABASE_NAME, help="sd_bench_* database")
    options = parser.parse_args()

    database_url = bench_database(options.database)
    env = ingest_environment(options.database)
    recreate_database(options.database)
    token = prepare(env)
    port = free_port()
    server = start_gunicorn(env, port)
    created_at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    try:
        single_bodies = [
            json.dumps(mention(number, "single", created_at)).encode()
            for number in range(options.single)
        ]
        batches = [
            json.dumps(
                [
                    mention(number, "batch", created_at)
                    for number in range(start, min(start + BATCH_SIZE, options.count))
                ]  # fmt: skip
            ).encode()
            for start in range(0, options.count, BATCH_SIZE)
        ]
        single = push_run(port, token, single_bodies, options.clients)
        single_seconds, single_statuses = single.seconds, single.statuses
        batch_seconds, batch_statuses = push(port, token, batches, options.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    insert_seconds = baseline_insert(database_url, options.count)
    copy_seconds = baseline_copy(database_url, options.count)

    failures = [s for s in single_statuses + batch_statuses if s not in (200, 201)]
    insert_rate = options.count / insert_seconds
    rows = [
        ("API, 1 mention per request", options.single, single_seconds),
        (f"API, batches of {BATCH_SIZE}", options.count, batch_seconds),
        (f"baseline INSERT ... VALUES ({BASELINE_ROWS_PER_TRANSACTION}/tx)", options.count,
         insert_seconds),
        (f"baseline COPY ({BASELINE_ROWS_PER_TRANSACTION}/tx)", options.count, copy_seconds),
    ]  # fmt: skip
    results = {
        "measured_at": datetime.now(UTC).isoformat(),
        "clients": options.clients,
        "gunicorn": "2 workers x 2 threads",
        "failed_requests": len(failures),
        "modes": [
            {
                "mode": mode,
                "mentions": count,
                "seconds": round(seconds, 3),
                "mentions_per_second": round(count / seconds, 1),
                "ratio_to_insert_baseline": round(count / seconds / insert_rate, 3),
            }
            for mode, count, seconds in rows
        ],  # fmt: skip
    }
    results["batched_ratio_target"] = BATCHED_RATIO_TARGET
    results["batched_ratio_target_met"] = (
        results["modes"][1]["ratio_to_insert_baseline"] >= BATCHED_RATIO_TARGET
    )
    results["single_p50_ms"] = round(percentile(single.latencies_ms, 0.5), 2)
    results["single_p99_ms"] = round(percentile(single.latencies_ms, 0.99), 2)
    results["single_p99_target_ms"] = SINGLE_P99_TARGET_MS
    results["single_p99_target_met"] = results["single_p99_ms"] < SINGLE_P99_TARGET_MS
    print(f"{'mode':<42} {'mentions':>9} {'seconds':>9} {'mentions/s':>11} {'vs INSERT':>10}")
    for item in results["modes"]:
        print(
            f"{item['mode']:<42} {item['mentions']:>9,} {item['seconds']:>9.2f} "
            f"{item['mentions_per_second']:>11,.0f} {item['ratio_to_insert_baseline']:>10.2f}"
        )
    print(
        f"single mode pushed {options.single:,} mentions (fewer than batched: one request each); "
        f"failed requests: {len(failures)}; target (batched >= {BATCHED_RATIO_TARGET} x "
        f"INSERT): {'met' if results['batched_ratio_target_met'] else 'NOT met'}"
    )
    print(
        f"single push latency under {options.clients} clients: p50 "
        f"{results['single_p50_ms']:.1f} ms, p99 {results['single_p99_ms']:.1f} ms (target "
        f"p99 < {SINGLE_P99_TARGET_MS} ms: "
        f"{'met' if results['single_p99_target_met'] else 'NOT met'})"
    )
    out = ROOT / "bench" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. status {failures[0]}")


if __name__ == "__main__":
    main()
