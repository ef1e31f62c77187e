"""The benchmark suite in one command: seeds one shared database once, runs every benchmark,
prints one table (figure, value, target, verdict) and writes bench/results/suite.json.

    .venv/bin/python -m bench.run [--quick] [--only NAME ...] [--reseed] [--no-peer]

Benchmarks (NAME): ingest (bench/ingest.py, own database sd_bench_ingest), peer
(bench/peer.py: django-helpdesk installed outside the repo, interleaved with our single
push, own databases sd_bench_peer and sd_bench_peer_ours; --no-peer skips it), pages
(bench/pages.py), sla_sweep (bench/sla_sweep.py --shared), dashboard (bench/dashboard.py) on
the shared seeded database, worker_memory (bench/worker_memory.py, own database
sd_bench_worker) and knowledge (bench/knowledge.py: search at 100,000 articles, own database
sd_bench_knowledge, seeded once and reused) and routing (bench/routing.py: routing decisions
at 200,000 open tickets and a burst of 1,000 cases, own database sd_bench_routing, seeded
once and reused), triage (bench/triage.py: retraining on 10,000 labels and the suggestion
latency with all heads, throw-away database), scaleout (bench/scaleout.py: the drill
faults/drill_g_scale_out.py, two web and two worker processes on a private PostgreSQL and
Redis under a 50,000-mention push from 8 clients; its verdict), bursts (bench/bursts.py:
burst detection on the labelled corpus at 1,000,000 stored mentions, own database
sd_bench_bursts, seeded once and reused) and incidents (bench/incidents.py: one statement to
500 members, own database sd_bench_incidents). Each runs as its own process; its full output
is printed as it goes and its figures are kept in bench/results/<name>.json.

The shared database (sd_bench_suite; sd_bench_suite_quick with --quick) is seeded with
bench.seed (COPY: 1,000,000 tickets, 200,000 of them open with a running clock, about 1.7
million mentions) and reused by later runs when it was seeded with the same parameters less
than REUSE_HOURS ago (its running clocks start to fall due after about 8 hours); --reseed
forces a new seed. --quick runs every benchmark with small sizes, as a smoke test: its
figures say nothing about the targets. Databases live on the server of DATABASE_URL, Redis
is db 11 of REDIS_URL's server.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    RESULTS,
    ROOT,
    SHARED_DATABASE,
    bench_environment,
    database_exists,
    database_url,
    load_average,
    recreate_database,
    write_json,
)

BENCHMARKS = (
    "ingest", "peer", "pages", "sla_sweep", "dashboard", "worker_memory", "knowledge",
    "routing", "triage", "scaleout", "bursts", "incidents",
)  # fmt: skip
NEEDS_SEED = {"pages", "sla_sweep", "dashboard"}
REUSE_HOURS = 6
SIZES = {
    "full": {
        "tickets": 1_000_000, "running": 200_000, "ingest_count": 50_000, "ingest_single": 5_000,
        "page_requests": 50, "sweep_runs": 21, "due": 100, "latency_clocks": 50,
        "dashboard_runs": 15, "worker_mentions": 100_000, "articles": 100_000,
        "search_runs": 15, "routing_tickets": 200_000, "routing_decisions": 200,
        "routing_burst": 1_000, "triage_labels": 10_000, "triage_latency": 2_000,
        "scaleout_mentions": 50_000, "burst_mentions": 1_000_000, "peer_requests": 2_000,
        "peer_rounds": 3, "incident_members": 500,
    },
    "quick": {
        "tickets": 20_000, "running": 4_000, "ingest_count": 2_000, "ingest_single": 200,
        "page_requests": 5, "sweep_runs": 3, "due": 100, "latency_clocks": 10,
        "dashboard_runs": 3, "worker_mentions": 2_000, "articles": 5_000, "search_runs": 3,
        "routing_tickets": 10_000, "routing_decisions": 20, "routing_burst": 200,
        "triage_labels": 1_000, "triage_latency": 200,
        "scaleout_mentions": 2_000, "burst_mentions": 20_000, "peer_requests": 100,
        "peer_rounds": 1, "incident_members": 50,
    },
}  # fmt: skip
META_TABLE = "bench_seed_meta"


# --------------------------------------------------------------------------- seeding


def _seed_meta(database: str) -> dict[str, Any] | None:
    import psycopg2

    if not database_exists(database):
        return None
    connection = psycopg2.connect(database_url(database))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [META_TABLE])
            if cursor.fetchone()[0] is None:
                return None
            cursor.execute(f"SELECT meta FROM {META_TABLE} LIMIT 1")
            row = cursor.fetchone()
            return row[0] if row else None
    finally:
        connection.close()


def _write_seed_meta(database: str, meta: dict[str, Any]) -> None:
    import psycopg2

    connection = psycopg2.connect(database_url(database))
    with connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (meta jsonb NOT NULL)")
        cursor.execute(f"DELETE FROM {META_TABLE}")
        cursor.execute(f"INSERT INTO {META_TABLE} (meta) VALUES (%s)", [json.dumps(meta)])
    connection.close()


def ensure_seeded(database: str, tickets: int, running: int, reseed: bool) -> dict[str, Any]:
    """Seed `database` unless it holds a recent seed with the same parameters."""
    parameters = {"tickets": tickets, "running": running, "due": 0}
    meta = None if reseed else _seed_meta(database)
    if meta and meta.get("parameters") == parameters:
        seeded_at = datetime.fromisoformat(meta["seeded_at"])
        age = datetime.now(UTC) - seeded_at
        if age < timedelta(hours=REUSE_HOURS):
            print(f"reusing {database}: seeded {age.total_seconds() / 60:.0f} min ago", flush=True)
            return {**meta, "reused": True, "seconds": 0.0}
        print(f"{database} was seeded {age} ago: seeding again", flush=True)
    print(f"seeding {database}: {tickets:,} tickets, {running:,} running clocks …", flush=True)
    started = time.monotonic()
    recreate_database(database)
    seeded_at = datetime.now(UTC)
    subprocess.run(
        [sys.executable, "-m", "bench.seed", "--tickets", str(tickets), "--running",
         str(running)],
        cwd=ROOT,
        env=bench_environment(database),
        check=True,
    )  # fmt: skip
    meta = {
        "parameters": parameters,
        "seeded_at": seeded_at.isoformat(),
        "seed_seconds": round(time.monotonic() - started, 1),
    }
    _write_seed_meta(database, meta)
    return {**meta, "reused": False, "seconds": meta["seed_seconds"]}


def _database_counts(database: str) -> dict[str, int]:
    import psycopg2

    connection = psycopg2.connect(database_url(database))
    counts = {}
    with connection.cursor() as cursor:
        for name, sql in (
            ("tickets", "SELECT count(*) FROM tickets_ticket"),
            ("open_tickets", "SELECT count(*) FROM tickets_ticket WHERE state IN ('new', "
             "'support', 'in_progress', 'waiting_customer', 'resubmission', "
             "'waiting_department')"),
            ("mentions", "SELECT count(*) FROM monitoring_mention"),
            ("running_clocks", "SELECT count(*) FROM tickets_slaclock WHERE stopped_at IS NULL"),
        ):  # fmt: skip
            cursor.execute(sql)
            counts[name] = cursor.fetchone()[0]
    connection.close()
    return counts


# --------------------------------------------------------------------------- benchmarks


def _commands(database: str, sizes: dict[str, int], quick: bool) -> dict[str, list[str]]:
    suffix = "_quick" if quick else ""
    python = [sys.executable]
    return {
        "ingest": [*python, "bench/ingest.py", "--count", str(sizes["ingest_count"]),
                   "--single", str(sizes["ingest_single"])],
        "pages": [*python, "-m", "bench.pages", "--database", database, "--requests",
                  str(sizes["page_requests"]), "--json", f"pages{suffix}.json"],
        "sla_sweep": [*python, "bench/sla_sweep.py", "--shared", database, "--runs",
                      str(sizes["sweep_runs"]), "--due", str(sizes["due"]), "--latency-clocks",
                      str(sizes["latency_clocks"]), "--json", f"sla_sweep{suffix}.json"],
        "dashboard": [*python, "-m", "bench.dashboard", "--database", database, "--runs",
                      str(sizes["dashboard_runs"]), "--json", f"dashboard{suffix}.json"],
        "worker_memory": [*python, "-m", "bench.worker_memory", "--mentions",
                          str(sizes["worker_mentions"]), "--json",
                          f"worker_memory{suffix}.json"],
        "knowledge": [*python, "-m", "bench.knowledge", "--articles", str(sizes["articles"]),
                      "--runs", str(sizes["search_runs"]), "--json", f"knowledge{suffix}.json"],
        "peer": [*python, "-m", "bench.peer", "--requests", str(sizes["peer_requests"]),
                 "--rounds", str(sizes["peer_rounds"]), "--json", f"peer{suffix}.json"],
        "routing": [*python, "-m", "bench.routing", "--database", f"sd_bench_routing{suffix}",
                    "--tickets", str(sizes["routing_tickets"]), "--decisions",
                    str(sizes["routing_decisions"]), "--burst", str(sizes["routing_burst"]),
                    "--json", f"routing{suffix}.json"],
        "triage": [*python, "-m", "bench.triage", "--labels", str(sizes["triage_labels"]),
                   "--latency", str(sizes["triage_latency"]), "--json", f"triage{suffix}.json"],
        "scaleout": [*python, "-m", "bench.scaleout", "--mentions",
                     str(sizes["scaleout_mentions"]), "--json", f"scaleout{suffix}.json"],
        "bursts": [*python, "-m", "bench.bursts", "--database", f"sd_bench_bursts{suffix}",
                   "--mentions", str(sizes["burst_mentions"]), "--json", f"bursts{suffix}.json"],
        "incidents": [*python, "-m", "bench.incidents", "--members",
                      str(sizes["incident_members"]), "--json", f"incidents{suffix}.json"],
    }  # fmt: skip


def _result_file(name: str, quick: bool) -> str:
    if name == "ingest":
        return "ingest.json"  # bench/ingest.py always writes there
    return f"{name}{'_quick' if quick else ''}.json"


def run_benchmark(name: str, command: list[str], quick: bool) -> dict[str, Any]:
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    env = bench_environment(SHARED_DATABASE)  # each benchmark names its database itself
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, env=env, check=False)
    seconds = time.monotonic() - started
    path = RESULTS / _result_file(name, quick)
    figures: dict[str, Any] = {}
    if path.exists() and path.stat().st_mtime >= time.time() - seconds - 1:
        figures = json.loads(path.read_text())
    return {
        "seconds": round(seconds, 1),
        "exit_code": completed.returncode,
        "figures": figures,
    }


# --------------------------------------------------------------------------- the table


def _verdict(met: bool | None) -> str:
    return "-" if met is None else ("met" if met else "MISSED")


def table_rows(results: dict[str, Any]) -> list[dict[str, str]]:
    """One row per figure: (figure, value, target, verdict)."""
    rows: list[dict[str, str]] = []

    def add(figure: str, value: str, target: str = "", met: bool | None = None) -> None:
        rows.append({"figure": figure, "value": value, "target": target, "verdict": _verdict(met)})

    for name, result in results.items():
        figures = result["figures"]
        if not figures:
            add(name, f"failed (exit {result['exit_code']})", "", False)
            continue
        if name == "ingest":
            modes = figures["modes"]
            single, batched, insert, copy = modes
            add("ingest: API, 1 mention/request", f"{single['mentions_per_second']:,.0f}/s "
                f"= {single['ratio_to_insert_baseline']:.3f} x INSERT")  # fmt: skip
            _ingest_target_rows(add, figures, batched)
            add("ingest: baseline INSERT (1000/tx)", f"{insert['mentions_per_second']:,.0f}/s")
            add("ingest: baseline COPY (1000/tx)", f"{copy['mentions_per_second']:,.0f}/s")
        elif name == "peer":
            _peer_rows(add, figures)
        elif name == "pages":
            pages = figures["pages"]
            minimal = pages["minimal JSON view"]["median_ms"]
            ratio = figures.get("target_ratio", 2)
            for page, data in pages.items():
                value = (
                    f"{data['median_ms']:.1f} ms (p95 {data['p95_ms']:.1f}) "
                    f"= {data['ratio_to_minimal']:.1f} x, {data['queries']} queries, "
                    f"SQL {data.get('sql_share', 0):.0%}, templates "
                    f"{data.get('template_share', 0):.0%}"
                )
                if page == "minimal JSON view":
                    add("page: minimal JSON view (1 query)", value[: value.index(" =")])
                else:
                    add(f"page: {page}", value, f"<= {ratio:g} x {minimal:.1f} ms",
                        data["target_met"])  # fmt: skip
        elif name == "sla_sweep":
            add(f"SLA sweep ({figures['due']} due, {figures['tickets']:,} tickets)",
                f"{figures['sweep_median_ms']:.1f} ms "
                f"(p95 {figures['sweep_p95_ms']:.1f})", "median < 100 ms",
                figures["sweep_median_ms"] < 100)  # fmt: skip
            add("SLA sweep, nothing due", f"{figures['idle_sweep_median_ms']:.1f} ms")
            add(f"deadline -> breach, {figures['latency_clocks']} clocks",
                f"median {figures['latency_median_s']:.2f} s, max "
                f"{figures['latency_max_s']:.2f} s", "median and max < 7 s",
                figures["latency_median_s"] < 7 and figures["latency_max_s"] < 7)  # fmt: skip
        elif name == "dashboard":
            add("dashboard, full page (30 days, no cache)", f"{figures['page_median_ms']:.0f} ms "
                f"(p95 {figures['page_p95_ms']:.0f})", "median < 500 ms",
                figures["page_median_ms"] < 500)  # fmt: skip
            add("dashboard, live fragment", f"{figures['live_median_ms']:.0f} ms")
        elif name == "worker_memory":
            after = figures["memory_after"]
            add(f"worker RSS after {figures['mentions']:,} mentions",
                f"{after['total_rss_mb']:.0f} MB (parent {after['parent_rss_mb']:.0f} + child "
                f"{after['child_rss_mb']:.0f})", "<= 300 MB", figures["target_met"])  # fmt: skip
            add("worker intake rate", f"{figures['mentions_per_second']:,.0f} mentions/s")
        elif name == "knowledge":
            overall = figures["overall"]
            add(f"knowledge search, {figures['articles']:,} articles",
                f"median {overall['median_ms']:.1f} ms, p95 {overall['p95_ms']:.1f} ms",
                "p95 < 50 ms", figures["target_met"])  # fmt: skip
            add(
                "knowledge search, slowest query (median)",
                f"{overall['max_query_median_ms']:.1f} ms",
            )
        elif name == "scaleout":
            scaleout_row(add, figures)
        elif name == "routing":
            decision, burst = figures["decision"], figures["burst"]
            add(f"routing decision, {figures['open_tickets']:,} open, {figures['agents']} agents",
                f"median {decision['median_ms']:.1f} ms, p95 {decision['p95_ms']:.1f} ms",
                "p95 < 20 ms", figures["decision_target_met"])  # fmt: skip
            add(f"routing burst, {burst['cases']:,} cases to {burst['agents']} agents",
                f"{burst['seconds']:.1f} s, load {burst['load_min']}-{burst['load_max']}, "
                f"{burst['still_waiting']} left", "< 10 s, +-1 of equal",
                figures["burst_target_met"])  # fmt: skip
        elif name == "triage":
            latency = figures["latency"]
            add(f"triage retrain, {figures['labelled_mentions']:,} labelled mentions",
                f"{figures['retrain_seconds']:.1f} s "
                f"({figures['retrain_cpu_seconds']:.1f} s CPU), {len(figures['heads'])} heads",
                "< 60 s", figures["retrain_target_met"])  # fmt: skip
            add("triage suggestion, rules + learned heads",
                f"median {latency['median_ms']:.2f} ms, p95 {latency['p95_ms']:.2f} ms "
                f"(CPU p95 {latency['cpu_p95_ms']:.2f})", "p95 < 5 ms",
                figures["latency_target_met"])  # fmt: skip
        elif name == "bursts":
            day, cost, met = figures["labelled_day"], figures["cost"], figures["verdicts"]
            add("burst detection: recall / precision (mentions)",
                f"{day['recall']} / {day['precision']}", ">= 0.95 each",
                met["recall"] and met["precision"])  # fmt: skip
            add("burst detection: opened at member", str(figures["opened_by_member"]), "<= 5",
                met["opened_by"])  # fmt: skip
            quiet = str(len(figures["quiet_day"]["bursts"]))
            add("burst detection: bursts on the quiet day", quiet, "0", met["quiet_bursts"])
            add(f"burst detection per mention, {figures['stored_mentions']:,} stored",
                f"p50 {cost['p50_ms']:.2f} ms, p95 {cost['p95_ms']:.2f} ms", "p95 < 2 ms",
                met["p95_ms"])  # fmt: skip
        elif name == "incidents":
            add(f"incident statement to {figures['members']} members, approval -> queued",
                f"{figures['enqueue_seconds']:.2f} s ({figures['send_tasks_on_broker']} tasks)",
                "< 5 s", figures["enqueue_target_met"])  # fmt: skip
            add(f"incident statement, {figures['members']} deliveries",
                f"{figures['sent']} sent in {figures['delivery_seconds']:.0f} s, once each: "
                f"{figures['delivered_once_each']}", "once each",
                figures["delivered_once_each"])  # fmt: skip
    return rows


def scaleout_row(add: Any, figures: dict[str, Any]) -> None:
    """The scale-out drill's verdict (bench/scaleout.py, faults/drill_g_scale_out.py)."""
    drill = figures.get("figures", {})
    counts = drill.get("counts", {})
    add(
        f"scale-out drill: 2 web + 2 workers, {figures['mentions']:,} mentions, 8 clients",
        f"{counts.get('unique_stored', 0):,} stored, {counts.get('lost', '?')} lost, "
        f"{counts.get('stored', 0) - counts.get('unique_stored', 0)} twice, "
        f"{counts.get('replies_posted_twice', '?')} replies twice; "
        f"{drill.get('mentions_per_second', 0):,.0f}/s",
        "nothing lost or twice",
        figures["passed"],
    )


def _ingest_target_rows(add: Any, figures: dict[str, Any], batched: dict[str, Any]) -> None:
    """Issue 20 §4: batched intake against the INSERT baseline, the single push's p99."""
    target = figures.get("batched_ratio_target", 1 / 3)
    add("ingest: API, batches of 500", f"{batched['mentions_per_second']:,.0f}/s "
        f"= {batched['ratio_to_insert_baseline']:.3f} x INSERT", f">= {target:.3g} x INSERT",
        batched["ratio_to_insert_baseline"] >= target)  # fmt: skip
    if "single_p99_ms" in figures:
        add(f"ingest: 1 mention/request, p99 ({figures['clients']} clients)",
            f"{figures['single_p99_ms']:.1f} ms (p50 {figures['single_p50_ms']:.1f})",
            f"< {figures['single_p99_target_ms']:.0f} ms",
            figures["single_p99_target_met"])  # fmt: skip


def _peer_rows(add: Any, figures: dict[str, Any]) -> None:
    """Issue 20 §1/§2: the single-mention push against the peer, interleaved runs."""
    peer, ours = figures["peer_run"], figures["ours_run"]
    add(f"peer: {figures['peer']} POST /api/tickets/",
        f"{peer['median_per_second']:,.0f}/s (p99 {peer['p99_ms']:.0f} ms)")  # fmt: skip
    add("peer: ours, 1 mention/push, same shape",
        f"{ours['median_per_second']:,.0f}/s (p99 {ours['p99_ms']:.0f} ms)")  # fmt: skip
    add(f"peer: ratio ours / peer ({figures['rounds']} interleaved runs each)",
        f"{figures['ratio']:.2f} x", f">= {figures['target_ratio']:.0f} x",
        figures["target_met"])  # fmt: skip


def print_table(rows: list[dict[str, str]]) -> None:
    widths = {key: max(len(key), *(len(row[key]) for row in rows)) for key in rows[0]}
    line = "  ".join(f"{key:<{widths[key]}}" for key in widths)
    print(line)
    print("  ".join("-" * widths[key] for key in widths))
    for row in rows:
        print("  ".join(f"{row[key]:<{widths[key]}}" for key in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only these: {', '.join(BENCHMARKS)}")  # fmt: skip
    parser.add_argument("--reseed", action="store_true", help="seed the shared database again")
    parser.add_argument(
        "--no-peer", action="store_true", help="skip the peer (django-helpdesk, outside the repo)"
    )
    options = parser.parse_args(argv)
    os.chdir(ROOT)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    mode = "quick" if options.quick else "full"
    sizes = SIZES[mode]
    selected = [name for name in BENCHMARKS if not options.only or name in options.only]
    if options.no_peer:
        selected = [name for name in selected if name != "peer"]
    database = SHARED_DATABASE + ("_quick" if options.quick else "")
    if options.quick:
        print("QUICK RUN: small sizes, a smoke test; the figures are not comparable to targets")
    load_before = load_average()
    seed: dict[str, Any] = {}
    if NEEDS_SEED & set(selected):
        seed = ensure_seeded(database, sizes["tickets"], sizes["running"], options.reseed)
        seed["counts"] = _database_counts(database)
    commands = _commands(database, sizes, options.quick)
    results = {name: run_benchmark(name, commands[name], options.quick) for name in selected}
    total = time.monotonic() - started
    rows = table_rows(results)
    suite = {
        "started_at": started_at.isoformat(),
        "mode": mode,
        "sizes": sizes,
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "total_seconds": round(total, 1),
        "seed": {"database": database, **seed} if seed else None,
        "seconds": {name: result["seconds"] for name, result in results.items()},
        "table": rows,
        "benchmarks": results,
    }
    path = write_json("suite_quick.json" if options.quick else "suite.json", suite)
    print(f"\n{'QUICK RUN (smoke test) — ' if options.quick else ''}benchmark suite, "
          f"{started_at:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average before "
          f"{load_before}, after {suite['load_average_after']}")  # fmt: skip
    if seed:
        counts = seed["counts"]
        how = "reused" if seed["reused"] else f"seeded in {seed['seconds']} s"
        print(f"shared database {database}: {counts['tickets']:,} tickets, "
              f"{counts['open_tickets']:,} open, {counts['mentions']:,} mentions, "
              f"{counts['running_clocks']:,} running clocks; {how}")  # fmt: skip
    print()
    print_table(rows)
    steps = ", ".join(f"{name} {result['seconds']:.0f} s" for name, result in results.items())
    seeding = f"seed {seed['seconds']:.0f} s, " if seed else ""
    print(f"\ntotal {total:.0f} s ({total / 60:.1f} min): {seeding}{steps}")
    print(f"written to {path.relative_to(ROOT)}")
    failed = [name for name, result in results.items() if not result["figures"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
