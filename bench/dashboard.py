"""Benchmark: render the whole team-lead dashboard (every figure, chart and table, the live
fragment included; default range; no caches) through Django's full request stack, against the
database of DATABASE_URL (seed it first with bench/seed.py). Prints the median, the 90th
percentile and the time of each report query.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_dash_bench \\
        .venv/bin/python -m bench.dashboard [--runs 15]
    .venv/bin/python -m bench.dashboard --database sd_bench_suite   # as bench.run calls it

The target is a median under 500 ms over 1,000,000 tickets. The figures are also written
to bench/results/dashboard.json (`--json` names another file there).
"""

import argparse
import os
import statistics
import sys
import time
from typing import Any

TARGET_MS = 500


def _setup_django(database: str | None = None) -> None:
    if database:
        from bench.common import setup_django

        setup_django(database)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    import django

    django.setup()


def _lead() -> Any:
    from django.contrib.auth import get_user_model

    from servicedesk import roles

    user = get_user_model().objects.filter(groups__name=roles.TEAM_LEAD).order_by("pk").first()
    if user is None:
        raise SystemExit("No team lead in this database: run bench/seed.py first.")
    return user


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def run(runs: int = 15, warmup: int = 2, database: str | None = None) -> dict[str, Any]:
    """Time `runs` renders of the page after `warmup` untimed ones; returns the figures."""
    _setup_django(database)
    from django.test import Client, override_settings
    from django.urls import reverse
    from django.utils import timezone

    from tickets import reports
    from tickets.models import Ticket

    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
    ):
        client = Client()
        client.force_login(_lead())
        url = reverse("tickets:dashboard")
        live_url = reverse("tickets:dashboard_live")

        def page() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"dashboard answered {response.status_code}")

        for _warm in range(warmup):
            page()
        page_ms = [_timed(page) for _run in range(runs)]
        live_ms = [_timed(lambda: client.get(live_url)) for _run in range(runs)]

        now = timezone.now()
        filters = reports.default_filters(now)
        per_report = {}
        for name in (
            "compliance",
            "response_times",
            "backlog",
            "at_risk_clocks",
            "live_breaches",
            "agent_figures",
            "department_times",
            "overdue_follow_ups",
            "process_depth",
            "channel_volume",
            "unsolvable_topics",
        ):
            function = getattr(reports, name)
            with reports.report_session():
                samples = [_timed(lambda function=function: function(filters, now=now))
                           for _run in range(3)]  # fmt: skip
            per_report[name] = statistics.median(samples)
    from bench.common import load_average, percentile

    return {
        "tickets": Ticket.objects.count(),
        "runs": runs,
        "page_median_ms": statistics.median(page_ms),
        "page_p95_ms": percentile(page_ms, 0.95),
        "page_p90_ms": statistics.quantiles(page_ms, n=10)[-1] if runs >= 2 else page_ms[0],
        "page_min_ms": min(page_ms),
        "live_median_ms": statistics.median(live_ms),
        "per_report_ms": per_report,
        "target_ms": TARGET_MS,
        "target_met": statistics.median(page_ms) < TARGET_MS,
        "load_average": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--database", help="database name (default: that of DATABASE_URL)")
    parser.add_argument("--json", default="dashboard.json", help="file under bench/results")
    options = parser.parse_args(argv)
    result = run(options.runs, options.warmup, options.database)
    print(f"tickets in the database: {result['tickets']:,}")
    print(
        f"dashboard page: median {result['page_median_ms']:.0f} ms, "
        f"p90 {result['page_p90_ms']:.0f} ms, min {result['page_min_ms']:.0f} ms "
        f"({options.runs} runs)"
    )
    print(f"live fragment: median {result['live_median_ms']:.0f} ms")
    for name, milliseconds in result["per_report_ms"].items():
        print(f"  {name:<20} {milliseconds:7.1f} ms")
    met = result["target_met"]
    print(f"target median < {TARGET_MS} ms: {'met' if met else 'NOT met'}")
    from bench.common import write_json

    print(f"written to {write_json(options.json, result)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
