"""Issue 15 figures: erasure time for one customer with N mentions (default 10,000), export
memory-bounded streaming of them, and the access audit's cost per request.

    .venv/bin/python -m bench.privacy [--mentions 10000] [--requests 2000]

Runs in a throw-away database (`<DATABASE_URL name>_bench_privacy`), seeded with COPY-free
multi-row INSERTs; small by design (2-core machine shared with others)."""

import argparse
import os
import statistics
import sys
import time
import tracemalloc

import django


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import (  # noqa: F401
        get_runner,
        setup_databases,
        setup_test_environment,
        teardown_databases,
    )

    setup_test_environment()
    names = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        return _run(args, connection)
    finally:
        teardown_databases(names, verbosity=0)


def _run(args: argparse.Namespace, connection: object) -> int:
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.utils import timezone
    from psycopg2.extras import Json, execute_values

    from crm.models import Customer, SocialIdentity
    from monitoring.models import Channel
    from privacy.actions import audit, erasure, export
    from tickets.models import Ticket

    now = timezone.now()
    lead = User.objects.create(username="lead-bench")
    officer = User.objects.create(username="officer-bench")
    lead.groups.add(Group.objects.get_or_create(name="team_lead")[0])
    officer.groups.add(Group.objects.get_or_create(name="privacy_officer")[0])
    channel = Channel.objects.create(slug="bench", name="Bench", platform="twitter")
    customer = Customer.objects.create(display_name="Bench Person", created_at=now)
    identity = SocialIdentity.objects.create(
        customer=customer, platform="twitter", handle="bench_person", created_at=now
    )
    tickets = [
        Ticket(
            channel=channel,
            customer=customer,
            opened_at=now,
            posted_at=now,
            last_mention_at=now,
            state_changed_at=now,
            updated_at=now,
            preview="bench",
        )
        for _ in range(max(args.mentions // 50, 1))
    ]
    Ticket.objects.bulk_create(tickets)
    rows = [
        (
            channel.pk,
            f"bench-{n}",
            identity.pk,
            "@bench_person",
            "Bench Person",
            "",
            f"Paket {n} kam nicht an",
            now - timedelta(seconds=n),
            now,
            "",
            "",
            False,
            False,
            False,
            "de",
            Json({"n": n}),
            tickets[n % len(tickets)].pk,
        )
        for n in range(args.mentions)
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            """INSERT INTO monitoring_mention (channel_id, external_id, identity_id,
               author_handle, author_display_name, author_platform_user_id, text, created_at,
               received_at, url, in_reply_to, is_private, is_own_account, is_hidden, language,
               raw, ticket_id) VALUES %s""",
            rows,
            page_size=1000,
        )
    print(f"seeded {args.mentions} mentions on {len(tickets)} tickets")

    tracemalloc.start()
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in export.json_chunks(customer, generated_at=now))
    took = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"export: {size / 1e6:.1f} MB JSON in {took:.2f} s, peak Python memory {peak / 1e6:.1f} MB"
    )

    request = erasure.request_erasure(customer, lead, reason="bench", now=now)
    started = time.perf_counter()
    done = erasure.confirm_erasure(request.pk, officer, now=now)
    took = time.perf_counter() - started
    print(f"erasure of {args.mentions} mentions: {took:.2f} s ({done.status}; {done.counts})")

    timings = []
    entry = [(lead.pk, "ticket_page", None, tickets[0].pk, "/tickets/1/")]
    for _ in range(args.requests):
        started = time.perf_counter()
        audit.write_entries(entry, at=now)
        timings.append(time.perf_counter() - started)
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p95 = timings[int(len(timings) * 0.95)] * 1000
    print(f"audit write per request: p50 {p50:.3f} ms, p95 {p95:.3f} ms (one INSERT)")
    started = time.perf_counter()
    list(audit.entries(customer_id=customer.pk)[:50])
    print(
        f"audit read per customer (50 newest of {args.requests}): "
        f"{(time.perf_counter() - started) * 1000:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
