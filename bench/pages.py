"""Page benchmark: server time of the CM inbox, the support queue (every tab) and a ticket
page over the seeded database (1,000,000 tickets, 200,000 of them open; bench.seed), next to
a minimal Django JSON view doing one indexed query (bench/urls.py) on the same database.

Server time = the time Django's test Client takes to produce the response in this process
(the whole middleware stack, the view, its queries and the template; no network, no
gunicorn): a logged-in user of the page's role (cm1 for the inbox, agent1 for the queue and
the ticket page) requests each page `--requests` times after 3 untimed warm-up requests.
The query count of each page and the time its queries take (median of 5 requests, through
a database execute wrapper) are taken after the timed requests. Target: each page's
median at most 2x the minimal view's median.

    .venv/bin/python -m bench.pages [--database sd_bench_suite] [--requests 50]
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

TARGET_RATIO = 2.0
QUEUE_TABS = ("pickup", "mine", "waiting_customer", "waiting_department", "follow_up")


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


def _queries_of(get: Any, repeat: int = 5) -> tuple[int, float]:
    """Queries per request and the median time they take (ms), over `repeat` requests
    outside the timed ones."""
    from django.db import connection

    durations: list[float] = []
    count = 0

    def measure(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            durations.append((time.perf_counter() - started) * 1000)
            count += 1

    per_request = []
    with connection.execute_wrapper(measure):
        for _request in range(repeat):
            durations.clear()
            count = 0
            get()
            per_request.append(sum(durations))
    return count, round(statistics.median(per_request), 2)


def run(requests: int = 50, warmup: int = 3) -> dict[str, Any]:
    """Time every page and the minimal view; returns the figures per page."""
    from django.test import Client, override_settings
    from django.urls import reverse

    from tickets.choices import OPEN_STATES, TicketState
    from tickets.models import Ticket

    with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"]):
        cm, agent = _user("cm1"), _user("agent1")
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
        figures: dict[str, Any] = {}
        for name, user, url in pages:
            client = clients.get(user.pk)
            if client is None:
                client = clients[user.pk] = Client()
                client.force_login(user)

            def get(client: Client = client, url: str = url) -> None:
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")

            for _warm in range(warmup):
                get()
            samples = [timed_ms(get) for _request in range(requests)]
            queries, sql_ms = _queries_of(get)
            figures[name] = {
                "url": url,
                "queries": queries,
                "sql_median_ms": sql_ms,
                **summary_ms(samples),
            }
        baseline = figures["minimal JSON view"]["median_ms"]
        for name, page in figures.items():
            page["ratio_to_minimal"] = round(page["median_ms"] / baseline, 2)
            if name != "minimal JSON view":
                page["target_met"] = page["ratio_to_minimal"] <= TARGET_RATIO
        return {
            "method": "Django test Client in-process, logged-in user of the page's role",
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
    print(f"{'page':<34}{'median':>9}{'p95':>9}{'queries':>9}{'SQL':>9}{'x minimal':>11}")
    for name, page in result["pages"].items():
        print(
            f"{name:<34}{page['median_ms']:>7.1f}ms{page['p95_ms']:>7.1f}ms"
            f"{page['queries']:>9}{page['sql_median_ms']:>7.1f}ms{page['ratio_to_minimal']:>11.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=SHARED_DATABASE)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", default="pages.json", help="file name under bench/results")
    options = parser.parse_args(argv)
    setup_django(options.database)
    result = run(options.requests)
    print_figures(result)
    print(f"written to {write_json(options.json, result)}")
    missed = [name for name, page in result["pages"].items() if page.get("target_met") is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
