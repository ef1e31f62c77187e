"""Worker memory benchmark: resident memory of a real Celery worker after it ingested
100,000 mentions through the real path.

A fake Mastodon instance (monitoring/tests/fakeplatform.py, a local HTTP server in this
process) serves `--mentions` notifications; a Mastodon channel points at it with a poll
interval of 0 s. A real `celery -A servicedesk worker --pool prefork -c 1` polls it: this
process enqueues `poll_channel_task` (the task the beat's dispatcher enqueues), keeping at
most two in the queue, and each poll reads up to 10 pages of 40 notifications through the
Mastodon adapter (httpx) and stores them through `tickets.intake.receive_mentions`. When all
mentions are stored and the queue is empty, VmRSS and VmHWM (peak) of the worker's parent and
child process are read from /proc/<pid>/status. Target: parent + child resident <= 300 MB.

    .venv/bin/python -m bench.worker_memory [--mentions 100000]

Own database sd_bench_worker (dropped and created again), Redis db 11.
"""

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    ROOT,
    bench_environment,
    child_pids,
    load_average,
    manage,
    process_memory_kb,
    recreate_database,
    redis_url,
    setup_django,
    write_json,
)

DATABASE = "sd_bench_worker"
TARGET_MB = 300
PAGE_SIZE = 40  # Mastodon's maximum page of notifications (the adapter asks for it)
AUTHORS = 20_000


def notification(number: int, created_at: str) -> dict[str, Any]:
    """Notification `number` of the fake instance: a mention of the desk's account."""
    account = {
        "id": str(70_000 + number % AUTHORS),
        "username": f"kunde{number % AUTHORS}",
        "acct": f"kunde{number % AUTHORS}",
        "display_name": f"Kundin {number % AUTHORS}",
    }
    return {
        "id": str(number),
        "type": "mention",
        "created_at": created_at,
        "account": account,
        "status": {
            "id": str(111_000_000_000 + number),
            "url": f"https://social.example/@{account['acct']}/{111_000_000_000 + number}",
            "created_at": created_at,
            "in_reply_to_id": None,
            "visibility": "direct" if number % 10 == 0 else "public",
            "language": "de",
            "content": (
                f"<p>@desk_hilft Mein Paket {number} ist nicht angekommen, "
                f"Sendungsnummer PB{number:09d}. Was nun?</p>"
            ),
            "account": account,
        },
    }


def serve_notifications(total: int) -> Any:
    """A fake Mastodon instance holding notifications 1..total."""
    from monitoring.tests.fakeplatform import FakePlatform, FakeResponse, RecordedRequest

    platform = FakePlatform()
    created_at = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()

    def notifications(request: RecordedRequest) -> FakeResponse:
        # The first poll (no cursor) sees the first page; later polls page up by min_id.
        after = int(request.param("min_id") or 0)
        newest = min(after + PAGE_SIZE, total)
        page = [notification(number, created_at) for number in range(newest, after, -1)]
        return FakeResponse(200, page)

    platform.serve("GET", "/api/v1/notifications", notifications)
    return platform


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "servicedesk", "worker", "--pool", "prefork",
         "-c", "1", "--loglevel", "WARNING", "--purge", "--without-heartbeat",
         "--without-mingle", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def memory_of(worker: subprocess.Popen) -> dict[str, float]:
    """Resident and peak memory (MB) of the worker's parent and its pool child."""
    parent = process_memory_kb(worker.pid)
    children = [process_memory_kb(pid) for pid in child_pids(worker.pid)]
    child_rss = sum(item["VmRSS"] for item in children)
    child_hwm = sum(item["VmHWM"] for item in children)
    return {
        "parent_rss_mb": round(parent["VmRSS"] / 1024, 1),
        "child_rss_mb": round(child_rss / 1024, 1),
        "total_rss_mb": round((parent["VmRSS"] + child_rss) / 1024, 1),
        "child_peak_mb": round(child_hwm / 1024, 1),
        "total_peak_mb": round((parent["VmHWM"] + child_hwm) / 1024, 1),
        "children": len(children),
    }


def run(mentions: int = 100_000, timeout: float = 600) -> dict[str, Any]:
    """Ingest `mentions` with a real worker; returns throughput and memory figures."""
    env = bench_environment(DATABASE)
    recreate_database(DATABASE)
    manage(env, "migrate", "--no-input")
    setup_django(DATABASE)
    import redis
    from django.contrib.auth import get_user_model

    from monitoring import actions
    from monitoring.models import Mention
    from tickets.tasks import poll_channel_task

    platform = serve_notifications(mentions)
    admin = get_user_model().objects.create_superuser("bench-admin", "admin@bench.test", None)
    channel, _secret = actions.create_channel(
        actor=admin, slug="bench-mastodon", platform="mastodon", name="Bench Mastodon",
        own_accounts=["desk_hilft"], base_url=platform.base_url, credentials="bench-token",
        poll_interval_seconds=0,
    )  # fmt: skip
    broker = redis.Redis.from_url(redis_url())
    worker = start_worker(env)
    try:
        time.sleep(4)  # the worker and its pool child are up
        before = memory_of(worker)
        started = time.monotonic()
        deadline = started + timeout
        stored = 0
        while stored < mentions:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {stored:,} of {mentions:,} mentions after {timeout} s")
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}")
            if broker.llen("celery") < 2:
                poll_channel_task.delay(channel.pk)
            time.sleep(0.1)
            stored = Mention.objects.count()
        seconds = time.monotonic() - started
        while broker.llen("celery"):
            time.sleep(0.2)
        time.sleep(2)  # the last polls (nothing new) finish
        after = memory_of(worker)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        platform.close()
    from tickets.models import Ticket

    return {
        "mentions": Mention.objects.count(),
        "tickets": Ticket.objects.count(),
        "platform_requests": len(platform.requests_to("GET", "/api/v1/notifications")),
        "ingest_seconds": round(seconds, 1),
        "mentions_per_second": round(mentions / seconds, 1),
        "worker": "celery worker --pool prefork -c 1",
        "memory_before": before,
        "memory_after": after,
        "target_mb": TARGET_MB,
        "target_met": after["total_rss_mb"] <= TARGET_MB,
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--json", default="worker_memory.json", help="file under bench/results")
    options = parser.parse_args(argv)
    result = run(options.mentions)
    after, before = result["memory_after"], result["memory_before"]
    print(
        f"{result['mentions']:,} mentions ({result['tickets']:,} tickets) ingested by the worker "
        f"in {result['ingest_seconds']} s ({result['mentions_per_second']:,.0f}/s)"
    )
    print(
        f"worker resident: parent {after['parent_rss_mb']} MB + child {after['child_rss_mb']} MB"
        f" = {after['total_rss_mb']} MB (before: {before['total_rss_mb']} MB; child peak "
        f"{after['child_peak_mb']} MB); target <= {TARGET_MB} MB: "
        f"{'met' if result['target_met'] else 'NOT met'}"
    )
    print(f"written to {write_json(options.json, result)}")
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
