"""(c) PostgreSQL restarted during pushes → clear 503 answers while it is down, full
recovery, no half-written ticket.

Four clients push mentions continuously (two one at a time, two in batches of 20); each
client retries a push that was not accepted until it is. After 8 s PostgreSQL is stopped
with `pg_ctl -m immediate` (no shutdown checkpoint: like a crash, recovery replays the WAL),
left down for 15 s and started again; the clients go on for 15 s more. Every answer is
classified: accepted (200/201), 503 `service_unavailable` in JSON, or anything else (which
fails the drill). Afterwards every accepted mention must be stored, and the consistency
checks must find no mention without a ticket, no ticket without a mention, no wrong
mention_count and no live new ticket without its first-response clock. The worker and beat
must have survived.
"""

import threading
import time
from collections import Counter

from faults.common import (
    Api,
    Stack,
    Verdict,
    consistency_problems,
    mention,
    report_fact_drift,
    say,
)

NAME = "postgres_restart"
BUDGET_SECONDS = 240
CHANNEL = "drill-c"
BEFORE_SECONDS = 8
DOWN_SECONDS = 15
AFTER_SECONDS = 15


def run(stack: Stack) -> Verdict:
    base_url = stack.start_web()
    stack.start_worker()
    stack.start_beat()
    admin = Api(base_url, stack.token("drill-admin", superuser=True))
    status, body = admin.post(
        "/api/v1/channels/", {"slug": CHANNEL, "platform": "webhook", "name": "C"}
    )
    assert status == 201, (status, body)
    tokens = [stack.token(f"pusher-{n}") for n in range(4)]
    stop = threading.Event()
    lock = threading.Lock()
    accepted: set[str] = set()
    answers: Counter[str] = Counter()
    odd: list[str] = []
    phase = {"name": "before"}
    first_success_after_restart: list[float] = []
    restarted_at: list[float] = []

    def classify(status: int, body: dict) -> str:
        if status in (200, 201):
            return "accepted"
        if status == 503 and isinstance(body, dict) and body.get("code") == "service_unavailable":
            return "503_service_unavailable"
        return f"other_{status}"

    def pusher(number: int, batch: int) -> None:
        client = Api(base_url, tokens[number], timeout=15)
        sequence = 0
        while not stop.is_set():
            ids = [f"c-{number}-{sequence + i}" for i in range(batch)]
            sequence += batch
            items = [mention(i, channel=CHANNEL, handle=f"kunde_{number}_{i}") for i in ids]
            payload = items[0] if batch == 1 else items
            while True:  # retry until accepted (what a well-behaved client does on 503)
                status, body = client.post("/api/v1/mentions/", payload)
                kind = classify(status, body)
                with lock:
                    answers[f"{phase['name']}:{kind}"] += 1
                    if kind.startswith("other"):
                        odd.append(f"{phase['name']} {status} {str(body)[:120]}")
                    if kind == "accepted":
                        accepted.update(ids)
                        if restarted_at and not first_success_after_restart:
                            first_success_after_restart.append(time.monotonic())
                if kind == "accepted" or stop.is_set():
                    break
                time.sleep(0.3)
            time.sleep(0.05)
        client.close()

    threads = [
        threading.Thread(target=pusher, args=(n, 1 if n < 2 else 20), daemon=True) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    time.sleep(BEFORE_SECONDS)
    with lock:
        phase["name"] = "down"
    say(NAME, "stopping PostgreSQL (immediate)")
    stack.postgres.stop("immediate")
    time.sleep(DOWN_SECONDS)
    say(NAME, "starting PostgreSQL again")
    stack.postgres.start()
    with lock:
        phase["name"] = "after"
        restarted_at.append(time.monotonic())
    time.sleep(AFTER_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(30)
    recovered_in = (
        round(first_success_after_restart[0] - restarted_at[0], 2)
        if first_success_after_restart
        else None
    )
    stored_ids = {
        row[0]
        for row in stack.sql(
            "SELECT external_id FROM monitoring_mention WHERE channel_id = "
            "(SELECT id FROM monitoring_channel WHERE slug = %s)",
            [CHANNEL],
        )
    }
    lost = accepted - stored_ids
    problems = consistency_problems(stack)
    drift = report_fact_drift(stack)
    worker_alive, beat_alive = stack.alive("worker"), stack.alive("beat")
    down_503 = answers["down:503_service_unavailable"]
    others = sum(count for key, count in answers.items() if ":other_" in key)
    passed = (
        not lost
        and down_503 > 0
        and others == 0
        and recovered_in is not None
        and not any(problems.values())
        and drift == 0
        and worker_alive
        and beat_alive
    )
    figures = {
        "accepted_mentions": len(accepted),
        "stored_mentions": len(stored_ids),
        "lost": len(lost),
        "answers": dict(answers),
        "other_answers_sample": odd[:5],
        "down_seconds": DOWN_SECONDS,
        "first_accept_after_restart_seconds": recovered_in,
        "consistency": problems,
        "report_fact_drift": drift,
        "worker_alive": worker_alive,
        "beat_alive": beat_alive,
    }
    summary = (
        f"{len(accepted)} accepted, {len(stored_ids)} stored, {len(lost)} lost; "
        f"{down_503} × 503 service_unavailable while down {DOWN_SECONDS} s, {others} other errors; "
        f"accepting again {recovered_in} s after restart; "
        f"{sum(problems.values())} half-written tickets, {drift} report-fact keys off; "
        f"worker {'up' if worker_alive else 'DEAD'}, beat {'up' if beat_alive else 'DEAD'}"
    )
    return Verdict(NAME, passed, summary, figures)
