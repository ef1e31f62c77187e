"""(a) The Celery worker killed with SIGKILL 10 times during polling and intake of 20,000
mentions → every mention exactly once.

Eight Mastodon channels poll eight fake Mastodon instances in this process (the real
adapter over HTTP; the fake answers `GET /api/v1/notifications` with Mastodon's paging:
`since_id`/`min_id`/`max_id`, newest first, `Link` header). Each instance first holds one
notification from before the crisis, so that the channel has a cursor; then 2,500 new
notifications appear on each at once (20,000 in all). While the worker polls and stores
them (beat dispatches every second, each channel polls every 5 s, 400 notifications per
poll), the drill kills with SIGKILL, ten times, every pool process that is using CPU at
that moment (the processes running the poll and the intake); the worker's main process
replaces them and, with acks_late and reject_on_worker_lost, the killed tasks are
delivered again. At the end every notification must be stored exactly once, with its
ticket, and the consistency checks must pass.

A kill that lands in the dispatcher after it leased a channel and before it enqueued the
poll leaves that channel without a poll task until its lease (POLL_LEASE_SECONDS, 300 s)
expires: nothing is lost, but the channel is late. The drill waits long enough for that and
reports each channel's completion time (`slowest_channel_seconds`).

Not covered here: SIGKILL of the worker's main process too (a whole node lost); the same
lease bounds the delay there (docs/reliability.md).
"""

import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

from faults.common import (
    Api,
    Stack,
    Verdict,
    busy_children,
    consistency_problems,
    report_fact_drift,
    say,
    wait_until,
)
from monitoring.tests.fakeplatform import FakePlatform, FakeResponse, RecordedRequest

NAME = "worker_kill"
BUDGET_SECONDS = 540  # includes one poll lease (300 s) expiring, see the docstring
CHANNELS = 8
PER_CHANNEL = 2_500
KILLS = 10
KILL_INTERVAL_SECONDS = 2.5
STORE_WAIT_SECONDS = 400  # > POLL_LEASE_SECONDS: a channel leased by a killed dispatcher
FIRST_STATUS_ID = 110_000_000_000


class FakeMastodon:
    """Notifications 1..published of one instance, served with Mastodon's paging."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.published = 1  # the notification from before the crisis
        self.lock = threading.Lock()
        self.created_at = datetime.now(UTC) - timedelta(seconds=30)
        self.platform = FakePlatform()
        self.platform.serve("GET", "/api/v1/notifications", self.notifications)

    def status_id(self, number: int) -> str:
        return str(FIRST_STATUS_ID + self.index * 1_000_000 + number)

    def notifications(self, request: RecordedRequest) -> FakeResponse:
        limit = min(int(request.param("limit") or 40), 40)
        low = int(request.param("min_id") or request.param("since_id") or 0)
        high = int(request.param("max_id") or 10**12)
        with self.lock:
            top = min(self.published, high - 1)
        if low >= top:
            ids: list[int] = []
        elif request.param("min_id"):
            ids = list(range(low + 1, min(low + limit, top) + 1))  # just above min_id
        else:
            ids = list(range(max(top - limit + 1, low + 1), top + 1))  # the newest
        ids.reverse()  # newest first, as Mastodon answers
        body = [self.notification(number) for number in ids]
        headers = {}
        if ids:
            base = self.platform.base_url + "/api/v1/notifications"
            headers["Link"] = (
                f'<{base}?max_id={ids[-1]}>; rel="next", <{base}?min_id={ids[0]}>; rel="prev"'
            )
        # A list body is JSON-encoded by the fake; request records are not kept (memory).
        self.platform.requests.clear()
        return FakeResponse(200, body, headers)

    def notification(self, number: int) -> dict:
        author = number % 400
        return {
            "id": str(number),
            "type": "mention",
            "created_at": self.created_at.isoformat(),
            "account": {"id": str(70000 + author), "acct": f"fan{author}@crisis.social"},
            "status": {
                "id": self.status_id(number),
                "url": f"https://crisis.social/@fan{author}/{self.status_id(number)}",
                "created_at": self.created_at.isoformat(),
                "content": f"<p>@zugplus_hilft Zug {number} fällt aus! (#{self.index})</p>",
                "visibility": "public",
                "in_reply_to_id": None,
                "language": "de",
                "account": {
                    "id": str(70000 + author),
                    "acct": f"fan{author}@crisis.social",
                    "display_name": f"Fan {author}",
                },
            },
        }

    def publish(self, count: int) -> None:
        with self.lock:
            self.published += count


def run(stack: Stack) -> Verdict:
    fakes = [FakeMastodon(index) for index in range(CHANNELS)]
    try:
        return _run(stack, fakes)
    finally:
        for fake in fakes:
            fake.platform.close()


def _run(stack: Stack, fakes: list[FakeMastodon]) -> Verdict:
    base_url = stack.start_web()
    admin = Api(base_url, stack.token("drill-admin", superuser=True))
    for fake in fakes:
        status, body = admin.post(
            "/api/v1/channels/",
            {
                "slug": f"masto-{fake.index}",
                "platform": "mastodon",
                "name": f"Mastodon {fake.index}",
                "base_url": fake.platform.base_url,
                "credentials": "drill-access-token",
                "own_accounts": ["zugplus_hilft"],
                "poll_interval_seconds": 5,
            },
        )
        assert status == 201, (status, body)
    worker = stack.start_worker()
    stack.start_beat()

    def cursors_set() -> bool:
        return (
            stack.scalar("SELECT count(*) FROM monitoring_channel WHERE cursor = '1'") == CHANNELS
        )

    if not wait_until(cursors_set, timeout=60):
        raise RuntimeError("the channels did not take their first poll within 60 s")
    total = CHANNELS * PER_CHANNEL
    stored_sql = "SELECT count(*) - %s FROM monitoring_mention"  # minus the pre-crisis ones
    started = time.monotonic()
    for fake in fakes:
        fake.publish(PER_CHANNEL)
    say(NAME, f"{total} notifications published; killing pool processes {KILLS} times")
    kills: list[dict] = []
    while len(kills) < KILLS and time.monotonic() - started < 120:
        time.sleep(KILL_INTERVAL_SECONDS)
        busy = busy_children(worker.pid)
        if not busy:
            continue
        stored = stack.scalar(stored_sql, [CHANNELS])
        for pid in busy:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        kills.append(
            {
                "at_seconds": round(time.monotonic() - started, 1),
                "pids": busy,
                "stored_before": stored,
            }
        )
    say(NAME, f"{len(kills)} kills done; waiting for the intake to finish")
    completed: dict[str, float] = {}

    def all_stored() -> bool:
        for slug, count in stack.sql(
            "SELECT c.slug, count(m.id) FROM monitoring_channel c "
            "LEFT JOIN monitoring_mention m ON m.channel_id = c.id GROUP BY c.slug"
        ):
            if count >= PER_CHANNEL + 1 and slug not in completed:
                completed[slug] = round(time.monotonic() - started, 1)
        return len(completed) == CHANNELS

    done = wait_until(all_stored, timeout=STORE_WAIT_SECONDS, interval=1)
    elapsed = round(time.monotonic() - started, 1)
    ordered = sorted(completed.values())
    typical = ordered[len(ordered) // 2] if ordered else None
    time.sleep(3)  # a late duplicate would show now
    per_channel = dict(
        stack.sql(
            "SELECT c.slug, count(m.id) FROM monitoring_channel c "
            "LEFT JOIN monitoring_mention m ON m.channel_id = c.id GROUP BY c.slug"
        )
    )
    missing = 0
    for fake in fakes:
        expected = {fake.status_id(n) for n in range(1, PER_CHANNEL + 2)}
        stored = {
            row[0]
            for row in stack.sql(
                "SELECT m.external_id FROM monitoring_mention m JOIN monitoring_channel c "
                "ON c.id = m.channel_id WHERE c.slug = %s",
                [f"masto-{fake.index}"],
            )
        }
        missing += len(expected - stored)
    stored_total = stack.scalar(stored_sql, [CHANNELS])
    duplicates = stack.scalar(
        "SELECT count(*) - count(DISTINCT (channel_id, external_id)) FROM monitoring_mention"
    )
    tickets = stack.scalar("SELECT count(*) FROM tickets_ticket")
    problems = consistency_problems(stack)
    drift = report_fact_drift(stack)
    worker_alive = stack.alive("worker")
    passed = (
        done
        and len(kills) == KILLS
        and missing == 0
        and duplicates == 0
        and stored_total == total
        and not any(problems.values())
        and drift == 0
        and worker_alive
    )
    figures = {
        "published": total,
        "stored": stored_total,
        "missing": missing,
        "duplicates": duplicates,
        "tickets": tickets,
        "kills": kills,
        "per_channel": per_channel,
        "seconds_to_store_all": elapsed if done else None,
        "channel_completed_seconds": completed,
        "median_channel_seconds": typical,
        "slowest_channel_seconds": ordered[-1] if ordered else None,
        "mentions_per_second": round(total / elapsed, 1) if done else None,
        "consistency": problems,
        "report_fact_drift": drift,
        "worker_alive": worker_alive,
    }
    summary = (
        f"{total} mentions, {stored_total} stored, {missing} missing, {duplicates} duplicates, "
        f"{len(kills)} kills (SIGKILL of the busy pool processes), all stored in {elapsed} s "
        f"(median channel {typical} s), "
        f"{sum(problems.values())} half-written tickets, {drift} report-fact keys off"
    )
    return Verdict(NAME, passed, summary, figures)
