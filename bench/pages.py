"""Page benchmark: server time of the CM inbox, the support queue (every tab), a ticket page
and the four-eyes review queue over the seeded database (1,000,000 tickets, 200,000 of them
open; bench.seed), next to a minimal Django JSON view doing one indexed query
(bench/urls.py) on the same database.

Server time = the time Django's test Client takes to produce the response in this process
(the whole middleware stack, the view, its queries and the template; no network, no
gunicorn): a logged-in user of the page's role (cm1 for the inbox, agent1 for the queue, the
ticket page and the review queue) requests each page `--requests` times after 3 untimed
warm-up requests. The seed holds no reply waiting for review, so the review queue is measured
with REVIEW_PENDING replies of agent2 submitted inside a transaction that is rolled back at
the end: the shared database is left as it was.

After the timed requests, 5 more requests per page are taken apart (medians): the query
count, the time the queries take (a database execute wrapper), and the time spent rendering
templates without the queries a template runs itself (lazy querysets, template tags) — the
SQL share and the template share of the page's time. Target: each page's median at most
TARGET_RATIO times the minimal view's median.

    .venv/bin/python -m bench.pages [--database sd_bench_suite] [--requests 50] [--explain]
"""

import argparse
import statistics
import sys
import time
from typing import Any

from bench.common import (
    SHARED_DATABASE,
    load_average,
    setup_django,
    summary_ms,
    timed_ms,
    write_json,
)

TARGET_RATIO = 4.0
QUEUE_TABS = ("pickup", "mine", "waiting_customer", "waiting_department", "follow_up")
REVIEW_PENDING = 200  # replies waiting for review while the review queue is measured
SLOWEST = 3  # queries of each page kept in the figures (with --explain: their plans)


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise SystemExit(f"No user {username} in this database: seed it first (bench.run).")
    return user


def _sample_ticket(agent: Any) -> Any:
    """A ticket of the agent with a history (several mentions, transitions, replies), in
    progress if there is one."""
    from tickets.choices import TicketState
    from tickets.models import Ticket

    by_history = ("-mention_count", "-transition_count", "pk")
    ticket = (
        Ticket.objects.filter(assignee=agent, state=TicketState.IN_PROGRESS)
        .order_by(*by_history)
        .first()
    ) or Ticket.objects.filter(assignee=agent).order_by(*by_history).first()
    if ticket is None:
        raise SystemExit("No ticket of agent1: seed the database first.")
    return ticket


def _submit_replies(author: Any, count: int) -> int:
    """`count` replies of `author` waiting for review, on open tickets of his, answering
    each ticket's first customer mention (rows only: the caller rolls them back)."""
    from django.utils import timezone

    from monitoring.models import Mention
    from tickets.choices import OPEN_STATES, ReplyStatus
    from tickets.models import Reply, Ticket

    now = timezone.now()
    tickets = Ticket.objects.filter(assignee=author, state__in=OPEN_STATES).order_by("-pk")
    replies = []
    for number, ticket_id in enumerate(tickets.values_list("pk", flat=True)[:count]):
        mention_id = (
            Mention.objects.filter(ticket_id=ticket_id, is_own_account=False)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if mention_id is None:
            continue
        replies.append(
            Reply(
                ticket_id=ticket_id,
                in_reply_to_mention_id=mention_id,
                author=author,
                text=f"Hallo, wir haben uns das angesehen (Antwort {number}).",
                visibility="public",
                kind="answer",
                status=ReplyStatus.PENDING_REVIEW,
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
        )
    Reply.objects.bulk_create(replies)
    return len(replies)


def _breakdown(get: Any, repeat: int = 5) -> dict[str, Any]:
    """Queries per request and the medians over `repeat` requests (outside the timed ones)
    of the request's time, its queries' time and its templates' rendering time without the
    queries run while rendering; with the SQL and template shares of the request time."""
    from unittest import mock

    from django.db import connection
    from django.template.backends.django import Template

    render = Template.render
    state = {"count": 0, "sql": 0.0, "sql_in_template": 0.0, "template": 0.0, "depth": 0}
    statements: list[tuple[float, str, Any]] = []  # of the last request

    def measure(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = (time.perf_counter() - started) * 1000
            state["count"] += 1
            state["sql"] += spent
            statements.append((spent, sql, params))
            if state["depth"]:
                state["sql_in_template"] += spent

    def timed_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        state["depth"] += 1
        started = time.perf_counter()
        try:
            return render(self, *args, **kwargs)
        finally:
            state["depth"] -= 1
            if not state["depth"]:
                state["template"] += (time.perf_counter() - started) * 1000

    rows = []
    with connection.execute_wrapper(measure), mock.patch.object(Template, "render", timed_render):
        for _request in range(repeat):
            state.update(count=0, sql=0.0, sql_in_template=0.0, template=0.0)
            statements.clear()
            total = timed_ms(get)
            template = state["template"] - state["sql_in_template"]
            rows.append((state["count"], total, state["sql"], template))
    total = statistics.median(row[1] for row in rows)
    sql = statistics.median(row[2] for row in rows)
    template = statistics.median(row[3] for row in rows)
    return {
        "queries": max(row[0] for row in rows),
        "sql_median_ms": round(sql, 2),
        "template_median_ms": round(template, 2),
        "sql_share": round(sql / total, 3),
        "template_share": round(template / total, 3),
        "slowest_queries": [
            {"ms": round(spent, 2), "sql": sql, "params": [str(value) for value in params or ()]}
            for spent, sql, params in sorted(statements, key=lambda row: -row[0])[:SLOWEST]
        ],
        "_slowest": sorted(statements, key=lambda row: -row[0])[:SLOWEST],
    }


def _measure(
    name: str, client: Any, url: str, requests: int, warmup: int, explain: bool = False
) -> dict[str, Any]:
    def get() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")

    for _warm in range(warmup):
        get()
    samples = [timed_ms(get) for _request in range(requests)]
    breakdown = _breakdown(get)
    slowest = breakdown.pop("_slowest")
    if explain:
        _print_plans(name, slowest)
    return {"url": url, **breakdown, **summary_ms(samples)}


def _print_plans(name: str, statements: list[tuple[float, str, Any]]) -> None:
    """EXPLAIN ANALYZE of a page's slowest queries (run once more, their rows discarded)."""
    from django.db import connection

    for spent, sql, params in statements:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        print(f"--- {name}: {spent:.1f} ms\n    {sql[:600]}\n{plan}", flush=True)


def run(requests: int = 50, warmup: int = 3, explain: bool = False) -> dict[str, Any]:
    """Time every page and the minimal view; returns the figures per page."""
    from django.db import transaction
    from django.test import Client, override_settings
    from django.urls import reverse

    from tickets.choices import OPEN_STATES, TicketState
    from tickets.models import Ticket

    with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"]):
        cm, agent, author = _user("cm1"), _user("agent1"), _user("agent2")
        ticket = _sample_ticket(agent)
        pages = [
            ("minimal JSON view", agent, reverse("bench_minimal_ticket", args=[ticket.pk])),
            ("CM inbox", cm, reverse("tickets:inbox")),
            *[
                (f"support queue: {tab}", agent, f"{reverse('tickets:queue')}?tab={tab}")
                for tab in QUEUE_TABS
            ],
            ("ticket page", agent, reverse("tickets:ticket_detail", args=[ticket.pk])),
        ]
        clients: dict[int, Client] = {}

        def client_of(user: Any) -> Client:
            if user.pk not in clients:
                clients[user.pk] = Client()
                clients[user.pk].force_login(user)
            return clients[user.pk]

        figures: dict[str, Any] = {}
        for name, user, url in pages:
            figures[name] = _measure(name, client_of(user), url, requests, warmup, explain)
        with transaction.atomic():
            pending = _submit_replies(author, REVIEW_PENDING)
            review_url = reverse("tickets:review_queue")
            figures["review queue"] = {
                **_measure("review queue", client_of(agent), review_url, requests, warmup, explain),
                "pending_replies": pending,
            }
            transaction.set_rollback(True)
        baseline = figures["minimal JSON view"]["median_ms"]
        for name, page in figures.items():
            page["ratio_to_minimal"] = round(page["median_ms"] / baseline, 2)
            page["p95_ratio_to_minimal"] = round(page["p95_ms"] / baseline, 2)
            if name != "minimal JSON view":
                page["target_met"] = page["ratio_to_minimal"] <= TARGET_RATIO
        return {
            "method": "Django test Client in-process, logged-in user of the page's role",
            "target_ratio": TARGET_RATIO,
            "requests_per_page": requests,
            "tickets": Ticket.objects.count(),
            "open_tickets": Ticket.objects.filter(state__in=OPEN_STATES).count(),
            "new_tickets": Ticket.objects.filter(state=TicketState.NEW).count(),
            "ticket_page_ticket": ticket.pk,
            "load_average": load_average(),
            "pages": figures,
        }


def print_figures(result: dict[str, Any]) -> None:
    print(
        f"{result['tickets']:,} tickets, {result['open_tickets']:,} open; "
        f"{result['requests_per_page']} requests per page"
    )
    print(
        f"{'page':<34}{'median':>9}{'p95':>9}{'x minimal':>11}{'queries':>9}{'SQL':>9}"
        f"{'SQL %':>7}{'templ.':>9}{'templ. %':>9}"
    )
    for name, page in result["pages"].items():
        print(
            f"{name:<34}{page['median_ms']:>7.1f}ms{page['p95_ms']:>7.1f}ms"
            f"{page['ratio_to_minimal']:>11.2f}{page['queries']:>9}"
            f"{page['sql_median_ms']:>7.1f}ms{page['sql_share']:>7.0%}"
            f"{page['template_median_ms']:>7.1f}ms{page['template_share']:>9.0%}"
        )
    print(f"target: each page's median <= {result['target_ratio']:g} x the minimal view's")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=SHARED_DATABASE)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", default="pages.json", help="file name under bench/results")
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of each page's slowest queries"
    )
    options = parser.parse_args(argv)
    setup_django(options.database)
    result = run(options.requests, explain=options.explain)
    print_figures(result)
    print(f"written to {write_json(options.json, result)}")
    missed = [name for name, page in result["pages"].items() if page.get("target_met") is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
