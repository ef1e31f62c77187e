"""Helpers shared by the benchmarks of bench/: database names and environments, Django
set-up, percentiles, process memory and the JSON result files.

Every benchmark runs against PostgreSQL databases of its own on the server of DATABASE_URL
(the name replaced) and Redis database REDIS_DB (overridable with BENCH_REDIS_URL), so a run
never touches the desk's own data.
"""

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED_DATABASE = "sd_bench_suite"  # the seeded 1M-ticket database (bench.run)
REDIS_DB = 11


def database_url(name: str) -> str:
    """DATABASE_URL with the database name replaced by `name`."""
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return urlunsplit(parts._replace(path="/" + name))


def redis_url() -> str:
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    return f"{base}/{REDIS_DB}"


def bench_environment(database: str) -> dict[str, str]:
    """Environment for a Django process (web, worker, beat, manage.py) of a benchmark."""
    url = redis_url()
    return {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "REDIS_URL": url,
        "CELERY_BROKER_URL": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        "SECURE_SSL_REDIRECT": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def setup_django(database: str, **settings_overrides: str) -> None:
    """Point this process at `database` (and the bench Redis db) and set Django up."""
    os.environ.update(bench_environment(database))
    os.environ.update(settings_overrides)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def admin_connection() -> Any:
    import psycopg2

    connection = psycopg2.connect(database_url("postgres"))
    connection.autocommit = True
    return connection


def database_exists(name: str) -> bool:
    connection = admin_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    connection.close()
    return found


def seeded_rows(database: str, table: str, *, requires: str | None = None) -> int:
    """Rows of `table` in a reused bench database; 0 when the database, `table` or the
    table `requires` (one the seed's schema must have) is missing, so the bench seeds."""
    import psycopg2

    if not database_exists(database):
        return 0
    connection = psycopg2.connect(database_url(database))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s), to_regclass(%s)", [table, requires or table])
            if None in cursor.fetchone():
                return 0
            cursor.execute(f"SELECT count(*) FROM {table}")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def recreate_database(name: str) -> None:
    if not name.startswith("sd_bench_"):
        raise ValueError("benchmark databases are named sd_bench_*")
    connection = admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def manage(env: dict[str, str], *args: str) -> str:
    """Run manage.py with `env`; returns its standard output."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of `values`."""
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    """Median, p95, min and max of millisecond samples, rounded for the report."""
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "samples": len(samples),
    }


def timed_ms(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def process_memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in kB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0])
    return figures


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(part) for part in children.read_text().split()] if children.exists() else []


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def write_json(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return path
