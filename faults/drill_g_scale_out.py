"""(g) Scale-out: two web machines and two worker machines on one PostgreSQL and one Redis
under a 50,000-mention push from 8 clients → nothing lost, nothing twice.

Two gunicorn masters on two ports stand for two web machines, two Celery workers (own node
names) for two worker machines, one beat for the whole desk (DESIGN §5, docs/performance.md
"Beyond one machine"). A webhook channel delivers approved replies to a receiver in this
process (faults/drill_b_redis_down.py's), which records every delivery by reply id and
`Idempotency-Key`.

First REPLIES tickets are opened and get a submitted reply each. Then 8 clients, half on
each web machine, push MENTIONS mentions in batches of BATCH; every THREAD_EVERY-th mention
answers one three places earlier of the same client (in_reply_to, so it joins that
mention's ticket, in the same batch or an earlier one), and the authors are AUTHORS handles
shared by all clients (the same customers resolved on both machines at once). Each client
then sends every RESEND_EVERY-th of its batches again through the other web machine (a
retry after a lost answer). Meanwhile a reviewer approves the replies one by one and the
workers deliver them.

The verdict counts, against what was sent: mentions stored (each external id exactly once),
tickets (one per mention that answers nothing), `opened` events (one per ticket), every
mention in exactly one ticket with the tickets' mention counts right, the answers (one
`created` per mention, `duplicate` for every resent one, no error), every approved reply
`sent` and delivered exactly once, and the report facts without drift.
"""

import threading
import time
from collections import Counter
from typing import Any

from faults.common import (
    Api,
    Stack,
    Verdict,
    consistency_problems,
    mention,
    report_fact_drift,
    say,
    submit_holding_replies,
    wait_until,
)
from faults.drill_b_redis_down import Receiver

NAME = "scale_out"
BUDGET_SECONDS = 1500
CHANNEL = "drill-g"
CLIENTS = 8
MENTIONS = 50_000  # bench/scaleout.py --mentions changes it
BATCH = 100
THREAD_EVERY = 5  # every 5th mention answers the one three places earlier
AUTHORS = 2_000
RESEND_EVERY = 10
REPLIES = 100
WEB_MACHINES = 2
WORKER_MACHINES = 2
DELIVERY_WAIT_SECONDS = 120


def external_id(client: int, number: int) -> str:
    return f"g-{client}-{number}"


def batches_of(client: int, count: int) -> list[list[dict[str, Any]]]:
    """The mentions of one client, in batches, threaded and with shared authors."""
    items = []
    for number in range(count):
        extra = {}
        if number % THREAD_EVERY == THREAD_EVERY - 1:
            extra["in_reply_to"] = external_id(client, number - 3)
        author = (client * count + number) % AUTHORS
        items.append(
            mention(external_id(client, number), channel=CHANNEL, handle=f"kunde_{author}", **extra)
        )
    return [items[start : start + BATCH] for start in range(0, len(items), BATCH)]


def run(stack: Stack) -> Verdict:
    receiver = Receiver()
    try:
        return _run(stack, receiver)
    finally:
        receiver.close()


def _run(stack: Stack, receiver: Receiver) -> Verdict:
    webs = [
        stack.start_web(workers=2, threads=4, name=f"web{number + 1}")
        for number in range(WEB_MACHINES)
    ]
    for number in range(WORKER_MACHINES):
        stack.start_worker(f"worker{number + 1}", concurrency=2)
    stack.start_beat()
    say(NAME, f"web machines {', '.join(webs)}; {WORKER_MACHINES} workers and one beat")
    admin = Api(webs[0], stack.token("drill-admin", superuser=True))
    status, body = admin.post(
        "/api/v1/channels/",
        {"slug": CHANNEL, "platform": "webhook", "name": "G", "callback_url": receiver.url},
    )
    assert status == 201, (status, body)
    receiver.secret = body["secret"]
    tokens = [stack.token(f"pusher-{number}") for number in range(CLIENTS)]
    author = Api(webs[1], stack.token("agent-author", "support_agent"))
    reply_ids = submit_holding_replies(
        Api(webs[1], tokens[0]),
        author,
        channel=CHANNEL,
        prefix="g-ticket",
        handle="fragende",
        count=REPLIES,
    )
    reviewer_token = stack.token("agent-reviewer", "support_agent")
    per_client = MENTIONS // CLIENTS
    sent = per_client * CLIENTS
    plans = [batches_of(client, per_client) for client in range(CLIENTS)]
    lock = threading.Lock()
    answers: Counter[str] = Counter()
    pushes: Counter[str] = Counter()
    approved: list[int] = []
    failures: list[str] = []

    def pusher(client: int) -> None:
        mine = Api(webs[client % WEB_MACHINES], tokens[client], timeout=120)
        other = Api(webs[(client + 1) % WEB_MACHINES], tokens[client], timeout=120)
        rounds = [(mine, batch, "first") for batch in plans[client]]
        rounds += [(other, batch, "resent") for batch in plans[client][::RESEND_EVERY]]
        for api, batch, kind in rounds:
            status, body = api.post("/api/v1/mentions/", batch)
            results = body.get("results", []) if isinstance(body, dict) else []
            with lock:
                pushes[f"{kind}:{status}"] += 1
                for result in results:
                    answers[f"{kind}:{result.get('status')}"] += 1
                if status not in (200, 201) or len(results) != len(batch):
                    failures.append(f"{kind} {batch[0]['external_id']}: {status} {body}"[:300])
        mine.close()
        other.close()

    def approver() -> None:
        client = Api(webs[0], reviewer_token, timeout=60)
        for reply_id in reply_ids:
            status, body = client.post(f"/api/v1/replies/{reply_id}/approve/")
            with lock:
                if status == 200:
                    approved.append(reply_id)
                else:
                    failures.append(f"approve {reply_id}: {status} {body}"[:300])
            time.sleep(0.2)
        client.close()

    started = time.monotonic()
    say(NAME, f"{CLIENTS} clients push {sent:,} mentions in batches of {BATCH}")
    threads = [threading.Thread(target=pusher, args=(n,), daemon=True) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=approver, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    push_seconds = round(time.monotonic() - started, 1)
    say(NAME, f"push done in {push_seconds} s; waiting for the deliveries")

    def all_sent() -> bool:
        return stack.scalar(
            "SELECT count(*) FROM tickets_reply WHERE id = ANY(%s) AND status = 'sent'", [approved]
        ) == len(approved)

    delivered_all = wait_until(all_sent, timeout=DELIVERY_WAIT_SECONDS, interval=1)
    time.sleep(3)  # a late second delivery would show now
    expected_ids = {
        external_id(client, number) for client in range(CLIENTS) for number in range(per_client)
    }
    stored_ids = [
        row[0]
        for row in stack.sql(
            "SELECT m.external_id FROM monitoring_mention m JOIN monitoring_channel c "
            "ON c.id = m.channel_id WHERE c.slug = %s AND m.external_id NOT LIKE 'g-ticket-%%'",
            [CHANNEL],
        )
    ]
    roots = sum(1 for number in range(per_client) if number % THREAD_EVERY != THREAD_EVERY - 1)
    expected_tickets = roots * CLIENTS + REPLIES
    tickets = stack.scalar("SELECT count(*) FROM tickets_ticket")
    opened_events = stack.scalar("SELECT count(*) FROM tickets_ticketevent WHERE kind = 'opened'")
    tickets_with_one_opened = stack.scalar(
        "SELECT count(*) FROM (SELECT ticket_id FROM tickets_ticketevent WHERE kind = 'opened' "
        "GROUP BY ticket_id HAVING count(*) = 1) once"
    )
    threaded_elsewhere = stack.scalar(
        "SELECT count(*) FROM monitoring_mention child JOIN monitoring_mention parent "
        "ON parent.channel_id = child.channel_id AND parent.external_id = child.in_reply_to "
        "WHERE child.in_reply_to <> '' AND child.ticket_id IS DISTINCT FROM parent.ticket_id"
    )
    problems = consistency_problems(stack)
    drift = report_fact_drift(stack)
    with receiver.lock:
        delivered = set(receiver.keys_by_reply)
        posted_twice = [r for r, keys in receiver.keys_by_reply.items() if len(keys) > 1]
        repeated_requests = sum(count - 1 for count in receiver.by_key.values() if count > 1)
    resent = sum(len(batch) for plan in plans for batch in plan[::RESEND_EVERY])
    counts = {
        "sent": sent,
        "stored": len(stored_ids),
        "unique_stored": len(set(stored_ids)),
        "lost": len(expected_ids - set(stored_ids)),
        "unexpected": len(set(stored_ids) - expected_ids),
        "tickets": tickets,
        "expected_tickets": expected_tickets,
        "opened_events": opened_events,
        "tickets_with_one_opened_event": tickets_with_one_opened,
        "replies_in_other_ticket_than_parent": threaded_elsewhere,
        "answers_created": answers["first:created"],
        "answers_duplicate_first": answers["first:duplicate"],
        "answers_duplicate_resent": answers["resent:duplicate"],
        "resent": resent,
        "replies_approved": len(approved),
        "replies_delivered": len(delivered & set(approved)),
        "replies_posted_twice": len(posted_twice),
        "repeated_delivery_requests": repeated_requests,
    }
    passed = (
        not failures
        and delivered_all
        and counts["stored"] == counts["unique_stored"] == sent
        and counts["lost"] == counts["unexpected"] == 0
        and tickets == expected_tickets
        and opened_events == tickets_with_one_opened == tickets
        and threaded_elsewhere == 0
        and answers["first:created"] == sent
        and answers["first:duplicate"] == 0
        and answers["resent:duplicate"] == resent
        and len(approved) == REPLIES
        and counts["replies_delivered"] == REPLIES
        and not posted_twice
        and repeated_requests == 0
        and not any(problems.values())
        and drift == 0
    )
    figures = {
        "web_machines": WEB_MACHINES,
        "worker_machines": WORKER_MACHINES,
        "clients": CLIENTS,
        "batch": BATCH,
        "push_seconds": push_seconds,
        "mentions_per_second": round(sent / push_seconds, 1),
        "requests": dict(pushes),
        "counts": counts,
        "consistency": problems,
        "report_fact_drift": drift,
        "failures": failures[:5],
        "processes_alive": {name: stack.alive(name) for name in list(stack.processes)},
    }
    summary = (
        f"{WEB_MACHINES} web + {WORKER_MACHINES} workers, {CLIENTS} clients: {sent:,} mentions "
        f"sent ({resent:,} sent twice), {counts['unique_stored']:,} stored, {counts['lost']} "
        f"lost, {counts['stored'] - counts['unique_stored']} twice; {tickets:,} tickets of "
        f"{expected_tickets:,} expected, {opened_events:,} opened events; "
        f"{counts['replies_delivered']}/{REPLIES} replies delivered, {len(posted_twice)} twice; "
        f"{sum(problems.values())} half-written tickets, {drift} report-fact keys off; "
        f"push {push_seconds} s ({figures['mentions_per_second']:,.0f}/s)"
    )
    return Verdict(NAME, passed, summary, figures)
