"""(b) Redis stopped for 60 seconds while clients push mentions and agents approve replies
→ every accepted push stored, every approved reply sent once after Redis returns.

A webhook channel delivers approved replies to a receiver in this process, which checks
the signature and records every delivery by `Idempotency-Key` and by reply id. 90 tickets
get a submitted reply first. Then two clients push mentions continuously and a second
agent approves one reply per second; after 5 s Redis is stopped (SIGTERM; it keeps no data,
so every queued task message is gone as after a crash), started again empty on the same
port 60 s later, and the load goes on for 10 s. The desk must answer every push and every
approval while Redis is down; afterwards every accepted mention must be stored and every
approved reply delivered exactly once (the outbox sweep finds the replies whose send task
could not be enqueued).
"""

import hashlib
import hmac
import json
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from faults.common import (
    Api,
    Stack,
    Verdict,
    mention,
    report_fact_drift,
    say,
    submit_holding_replies,
    wait_until,
)

NAME = "redis_down"
BUDGET_SECONDS = 300
CHANNEL = "drill-b"
REPLIES = 90
BEFORE_SECONDS = 5
DOWN_SECONDS = 60
AFTER_SECONDS = 10
DELIVERY_WAIT_SECONDS = 90


class Receiver:
    """The webhook endpoint: verifies signatures, answers `{"external_id"}` (the same one
    for a repeated key), records deliveries."""

    def __init__(self) -> None:
        self.secret = ""
        self.lock = threading.Lock()
        self.by_key: Counter[str] = Counter()
        self.keys_by_reply: dict[int, set[str]] = defaultdict(set)
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                timestamp = self.headers.get("X-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    if not hmac.compare_digest(expected, self.headers.get("X-Signature", "")):
                        receiver.bad_signatures += 1
                        self._answer(401, {"detail": "bad signature"})
                        return
                    receiver.by_key[key] += 1
                    receiver.keys_by_reply[int(json.loads(body)["reply_id"])].add(key)
                self._answer(200, {"external_id": f"hook-{key}"})

            def _answer(self, status: int, data: Any) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(stack: Stack) -> Verdict:
    receiver = Receiver()
    try:
        return _run(stack, receiver)
    finally:
        receiver.close()


def _run(stack: Stack, receiver: Receiver) -> Verdict:
    base_url = stack.start_web()
    stack.start_worker()
    stack.start_beat()
    admin = Api(base_url, stack.token("drill-admin", superuser=True))
    status, body = admin.post(
        "/api/v1/channels/",
        {"slug": CHANNEL, "platform": "webhook", "name": "B", "callback_url": receiver.url},
    )
    assert status == 201, (status, body)
    receiver.secret = body["secret"]
    pusher_tokens = [stack.token(f"pusher-{n}") for n in range(2)]
    author = Api(base_url, stack.token("agent-author", "support_agent"))
    reviewer_token = stack.token("agent-reviewer", "support_agent")
    setup = Api(base_url, pusher_tokens[0])
    reply_ids = submit_holding_replies(
        setup, author, channel=CHANNEL, prefix="b-ticket", handle="kunde", count=REPLIES
    )
    say(NAME, f"{len(reply_ids)} replies waiting for review")

    stop = threading.Event()
    lock = threading.Lock()
    accepted: set[str] = set()
    approved: list[int] = []
    answers: Counter[str] = Counter()
    phase = {"name": "before"}

    def pusher(number: int) -> None:
        client = Api(base_url, pusher_tokens[number], timeout=30)
        sequence = 0
        batch = 1 if number == 0 else 10
        while not stop.is_set():
            ids = [f"b-{number}-{sequence + i}" for i in range(batch)]
            sequence += batch
            items = [mention(i, channel=CHANNEL, handle=f"fan_{number}_{i}") for i in ids]
            status, _ = client.post("/api/v1/mentions/", items[0] if batch == 1 else items)
            with lock:
                answers[f"{phase['name']}:push:{status}"] += 1
                if status in (200, 201):
                    accepted.update(ids)
            time.sleep(0.1)

    def approver() -> None:
        client = Api(base_url, reviewer_token, timeout=30)
        for reply_id in reply_ids:
            if stop.is_set():
                break
            status, _ = client.post(f"/api/v1/replies/{reply_id}/approve/")
            with lock:
                answers[f"{phase['name']}:approve:{status}"] += 1
                if status == 200:
                    approved.append(reply_id)
            time.sleep(0.8)

    threads = [threading.Thread(target=pusher, args=(n,), daemon=True) for n in range(2)]
    threads.append(threading.Thread(target=approver, daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(BEFORE_SECONDS)
    say(NAME, f"stopping Redis for {DOWN_SECONDS} s")
    with lock:
        phase["name"] = "down"
    stack.redis.stop()
    time.sleep(DOWN_SECONDS)
    stack.redis.start()
    with lock:
        phase["name"] = "after"
    say(NAME, "Redis is back (empty)")
    back_at = time.monotonic()
    # Celery can die on a lost broker (kombu: "Unrecoverable error: AttributeError
    # 'NoneType' object has no attribute 'hostname'"); in production the process supervisor
    # starts it again, and so does the drill, counting the restarts in its verdict.
    restarts: Counter[str] = Counter()
    while time.monotonic() - back_at < AFTER_SECONDS:
        for name in ("worker", "beat"):
            if stack.restart_if_dead(name):
                restarts[name] += 1
                say(NAME, f"{name} had exited; restarted as a supervisor would")
        time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(60)

    def all_sent() -> bool:
        sent = stack.scalar(
            "SELECT count(*) FROM tickets_reply WHERE id = ANY(%s) AND status = 'sent'", [approved]
        )
        return sent == len(approved)

    def all_sent_supervised() -> bool:
        for name in ("worker", "beat"):
            if stack.restart_if_dead(name):
                restarts[name] += 1
        return all_sent()

    delivered_all = wait_until(all_sent_supervised, timeout=DELIVERY_WAIT_SECONDS, interval=1)
    last_sent_after = round(time.monotonic() - back_at, 1)
    statuses = dict(
        stack.sql(
            "SELECT status, count(*) FROM tickets_reply WHERE id = ANY(%s) GROUP BY status",
            [approved],
        )
    )
    stored_ids = {
        row[0]
        for row in stack.sql(
            "SELECT external_id FROM monitoring_mention WHERE external_id LIKE 'b-%%-%%' "
            "AND external_id NOT LIKE 'b-ticket-%%'"
        )
    }
    lost = accepted - stored_ids
    with receiver.lock:
        delivered = set(receiver.keys_by_reply)
        posted_twice = [r for r, keys in receiver.keys_by_reply.items() if len(keys) > 1]
        repeated_requests = sum(count - 1 for count in receiver.by_key.values() if count > 1)
        bad_signatures = receiver.bad_signatures
    missing = set(approved) - delivered
    unexpected = delivered - set(approved)
    approved_while_down = answers["down:approve:200"]
    failures = sum(c for k, c in answers.items() if not k.endswith((":200", ":201")))
    drift = report_fact_drift(stack)
    passed = (
        not lost
        and delivered_all
        and not missing
        and not unexpected
        and not posted_twice
        and repeated_requests == 0
        and bad_signatures == 0
        and failures == 0
        and approved_while_down > 0
        and drift == 0
    )
    figures = {
        "accepted_mentions": len(accepted),
        "stored_mentions": len(stored_ids),
        "lost": len(lost),
        "approved": len(approved),
        "approved_while_down": approved_while_down,
        "reply_statuses": statuses,
        "delivered": len(delivered),
        "missing": sorted(missing)[:10],
        "unexpected": sorted(unexpected)[:10],
        "posted_twice": posted_twice[:10],
        "repeated_requests_same_key": repeated_requests,
        "bad_signatures": bad_signatures,
        "answers": dict(answers),
        "all_sent_within_seconds_of_redis_return": last_sent_after if delivered_all else None,
        "process_restarts_by_supervisor": dict(restarts),
        "report_fact_drift": drift,
    }
    summary = (
        f"{len(accepted)} pushes accepted, {len(stored_ids)} stored, {len(lost)} lost, "
        f"{failures} refused; {len(approved)} replies approved ({approved_while_down} while "
        f"Redis was down {DOWN_SECONDS} s), {len(delivered & set(approved))} delivered, "
        f"{len(missing)} missing, {len(posted_twice)} posted twice, {repeated_requests} re-sends; "
        f"all sent {last_sent_after} s after Redis returned; supervisor restarts: "
        f"{dict(restarts) or 'none'}; {drift} report-fact keys off"
    )
    return Verdict(NAME, passed, summary, figures)
