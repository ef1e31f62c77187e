"""Benchmark: routing of support cases (issue 16) on the real code path
(tickets.actions.route_waiting, which tickets.tasks.route_support_task calls).

    .venv/bin/python -m bench.routing [--reseed] [--decisions 200] [--burst 1000]

Database sd_bench_routing (own; on the server of DATABASE_URL, Redis db 11) is seeded once
with bench.seed (COPY: 200,000 tickets, every one open with a running clock, with their
mentions, events and department requests) and reused while the seed is recent (bench.run's
rule; --reseed forces a new one). Every run then prepares the routing state again, the same
each time: 100 agents of its own (routebench_agent1..100, support agents, a roster giving
all of them support duty all week) with 40 open cases each (capacity 100), and a Support pool
of waiting cases taken out of the seeded tickets (their history still says otherwise: the
routing reads only state, assignee, deadline, channel and mention language).

(a) Single routing decisions: `route_waiting(limit=1)` with 100 online agents over 200,000
    open tickets and a pool of 5,000 waiting cases; median, p95, p99 and max, then EXPLAIN
    ANALYZE of each query of one more decision (rolled back). Target: < 20 ms.
(b) Burst: 1,000 waiting cases, 20 agents online (equal start load 40, capacity 100): time of
    one `route_support_task()` until all are assigned, and the spread per agent. Target:
    every agent within +-1 of equal load, in under 10 s.

Figures go to bench/results/routing.json (`--json` names another file there).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import time as clock_time
from typing import Any

from bench.common import load_average, percentile, setup_django, summary_ms, write_json

DATABASE = "sd_bench_routing"
TICKETS = 200_000
AGENTS = 100
START_LOAD = 40
CAPACITY = 100
POOL_MODULO = 40  # tickets with id % 40 = 0 are the Support pool of (a): 5,000 of 200,000
DECISION_TARGET_MS = 20
BURST_TARGET_S = 10
PREFIX = "routebench_agent"


def _sql(statement: str, params: list[Any] | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def prepare_people(agents: int) -> list[int]:
    """The benchmark's agents (get-or-create), their staff rows and a roster giving every
    one of them support duty all week; the desk routes automatically. Returns user ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from servicedesk import roles
    from staffing.choices import Duty
    from staffing.models import RoutingSettings, Shift, StaffMember

    user_model = get_user_model()
    group = Group.objects.get(name=roles.SUPPORT_AGENT)
    ids = []
    for index in range(1, agents + 1):
        user, _created = user_model.objects.get_or_create(
            username=f"{PREFIX}{index}", defaults={"first_name": f"Agent {index}"}
        )
        user.groups.add(group)
        ids.append(user.pk)
    StaffMember.objects.bulk_create(
        [StaffMember(user_id=user_id) for user_id in ids], ignore_conflicts=True
    )
    Shift.objects.filter(user_id__in=ids).delete()
    Shift.objects.bulk_create(
        [
            Shift(user_id=user_id, duty=Duty.SUPPORT, weekday=day,
                  starts=clock_time(0), ends=clock_time(0))  # 00:00-00:00: the whole day
            for user_id in ids
            for day in range(7)
        ]
    )  # fmt: skip
    RoutingSettings.objects.update_or_create(
        pk=1, defaults={"auto_assign": True, "max_open_per_agent": CAPACITY}
    )
    return ids


def prepare_state(agent_ids: list[int], online: list[int], pool: int) -> dict[str, int]:
    """The same starting point on every run: the cases routing assigned earlier and the
    former pool leave it (to `new`, unassigned), the first `pool` tickets with
    id % POOL_MODULO = 0 wait in the Support pool, every agent holds exactly START_LOAD
    open cases, `online` are online and never assigned yet, the other agents offline."""
    from django.db import transaction
    from django.utils import timezone

    from staffing.choices import PresenceStatus
    from staffing.models import StaffMember

    now = timezone.now()
    with transaction.atomic():
        _sql(
            "UPDATE tickets_ticket SET state = 'new', assignee_id = NULL, assigned_by_id = NULL,"
            " assigned_by_routing = false, assigned_at = NULL"
            " WHERE (assigned_by_routing OR state = 'support' OR id %% %s = 0)",
            [POOL_MODULO],
        )
        waiting = _sql(
            "UPDATE tickets_ticket SET state = 'support', assignee_id = NULL WHERE id IN"
            " (SELECT id FROM tickets_ticket WHERE id %% %s = 0 ORDER BY id LIMIT %s)",
            [POOL_MODULO, pool],
        )
        # Exactly START_LOAD cases per agent, in a load state (waiting for a department).
        _sql(
            "UPDATE tickets_ticket t SET assignee_id = (%s::int[])[1 + (pick.rn %% %s)]"
            " FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM tickets_ticket"
            "       WHERE state = 'waiting_department' AND id %% %s <> 0"
            "       ORDER BY id LIMIT %s) pick WHERE t.id = pick.id"
            " AND t.assignee_id IS DISTINCT FROM (%s::int[])[1 + (pick.rn %% %s)]",
            [agent_ids, len(agent_ids), POOL_MODULO, START_LOAD * len(agent_ids)]
            + [agent_ids, len(agent_ids)],
        )
        StaffMember.objects.filter(user_id__in=agent_ids).update(
            status=PresenceStatus.OFFLINE, last_assigned_at=None, max_open=None
        )
        StaffMember.objects.filter(user_id__in=online).update(
            status=PresenceStatus.ONLINE, status_changed_at=now, last_seen_at=now
        )
    # What autovacuum does on a live desk: without it the dead index entries of the resets
    # above pile up run after run and the load count reads them all.
    _sql("VACUUM (ANALYZE) tickets_ticket")
    return {"pool": waiting}


def loads(agent_ids: list[int]) -> dict[int, int]:
    from django.db.models import Count

    from tickets.actions.routing import LOAD_STATES
    from tickets.models import Ticket

    counted = dict(
        Ticket.objects.filter(assignee_id__in=agent_ids, state__in=LOAD_STATES)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    return {user_id: counted.get(user_id, 0) for user_id in agent_ids}


def explain_decision() -> tuple[list[dict[str, Any]], list[str]]:
    """The SELECTs of one decision, each with EXPLAIN (ANALYZE, BUFFERS), and every
    statement of it; all rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tickets import actions

    class Rollback(Exception):
        pass

    plans, statements = [], []
    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                actions.route_waiting(now=timezone.now(), limit=1)
            with connection.cursor() as cursor:
                for query in captured.captured_queries:
                    sql = query["sql"]
                    statements.append(sql)
                    if not sql.lstrip().upper().startswith("SELECT"):
                        continue
                    with transaction.atomic():
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        plan = [row[0] for row in cursor.fetchall()]
                    plans.append({"sql": sql, "ms": float(query["time"]) * 1000, "plan": plan})
            raise Rollback
    except Rollback:
        pass
    return plans, statements


PHASES = ("lock_candidates", "claim_waiting", "_assign")  # of tickets.actions.routing


def decisions(count: int, warmup: int = 5) -> tuple[list[float], int, dict[str, float]]:
    """Time `count` decisions; also the median time of the phases of a decision (locking
    the agents with their load, claiming the case, writing the assignment), measured by
    wrapping those functions of tickets.actions.routing for the timed runs only, and the
    CPU time of this process per decision (Python and the ORM, without PostgreSQL's)."""
    from django.utils import timezone

    from tickets import actions
    from tickets.actions import routing

    for _warm in range(warmup):
        actions.route_waiting(now=timezone.now(), limit=1)
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    originals = {name: getattr(routing, name) for name in PHASES}

    def timed(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return originals[name](*args, **kwargs)
            finally:
                phases[name].append((time.perf_counter() - started) * 1000)

        return call

    samples, cpu, assigned = [], [], 0
    for name in PHASES:
        setattr(routing, name, timed(name))
    try:
        for _decision in range(count):
            started, cpu_started = time.perf_counter(), time.process_time()
            assigned += actions.route_waiting(now=timezone.now(), limit=1)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    finally:
        for name, original in originals.items():
            setattr(routing, name, original)
    medians = {name: round(statistics.median(v), 2) for name, v in phases.items() if v}
    medians["python_cpu"] = round(statistics.median(cpu), 2)  # this process's CPU only
    return samples, assigned, medians


def run(options: argparse.Namespace) -> dict[str, Any]:
    from bench.run import ensure_seeded

    seed = ensure_seeded(options.database, options.tickets, options.tickets, options.reseed)
    setup_django(options.database)
    from tickets.choices import OPEN_STATES
    from tickets.models import Ticket
    from tickets.tasks import route_support_task

    agent_ids = prepare_people(options.agents)
    open_tickets = Ticket.objects.filter(state__in=OPEN_STATES).count()

    # (a) single decisions, every agent online
    state = prepare_state(agent_ids, agent_ids, open_tickets // POOL_MODULO)
    print(f"(a) {open_tickets:,} open tickets, {len(agent_ids)} agents online, "
          f"{state['pool']:,} cases waiting", flush=True)  # fmt: skip
    samples, assigned, phases = decisions(options.decisions)
    plans, plans_all = explain_decision()  # after the timed ones: caches warm, as on a worker
    decision = summary_ms(samples)
    decision["p99_ms"] = round(percentile(samples, 0.99), 2)
    decision["assigned"] = assigned
    decision["phase_median_ms"] = phases
    decision["queries"] = len(plans_all)
    decision["server_execution_ms"] = round(
        sum(
            float(line.split(":")[1].split()[0])
            for query in plans
            for line in query["plan"]
            if line.startswith("Execution Time:")
        ),
        2,
    )

    # (b) burst
    burst_agents = agent_ids[: options.burst_agents]
    state = prepare_state(agent_ids, burst_agents, options.burst)
    before = loads(burst_agents)
    print(f"(b) {state['pool']:,} cases waiting, {len(burst_agents)} agents online "
          f"(start load {min(before.values())}-{max(before.values())}, capacity {CAPACITY})",
          flush=True)  # fmt: skip
    started = time.perf_counter()
    burst_assigned = route_support_task()
    burst_seconds = time.perf_counter() - started
    after = loads(burst_agents)
    waiting = Ticket.objects.filter(state="support", assignee__isnull=True).count()
    gained = [after[user_id] - before[user_id] for user_id in burst_agents]
    mean = statistics.mean(after.values())
    equal = all(abs(value - mean) <= 1 for value in after.values())
    return {
        "database": options.database,
        "seed": seed,
        "open_tickets": open_tickets,
        "agents": len(agent_ids),
        "decision": decision,
        "decision_target_ms": DECISION_TARGET_MS,
        "decision_target_met": decision["p95_ms"] < DECISION_TARGET_MS,
        "queries": plans,
        "burst": {
            "cases": state["pool"],
            "agents": len(burst_agents),
            "assigned": burst_assigned,
            "still_waiting": waiting,
            "seconds": round(burst_seconds, 2),
            "cases_per_second": round(burst_assigned / burst_seconds, 1),
            "load_min": min(after.values()),
            "load_max": max(after.values()),
            "gained_min": min(gained),
            "gained_max": max(gained),
            "load_mean": round(mean, 2),
            "within_one": equal,
        },
        "burst_target_s": BURST_TARGET_S,
        "burst_target_met": equal and waiting == 0 and burst_seconds < BURST_TARGET_S,
        "load_average": load_average(),
    }


def report(result: dict[str, Any]) -> None:
    print()
    for query in result["queries"]:
        print(f"--- {query['ms']:.2f} ms: {query['sql'][:300]}")
        for line in query["plan"]:
            print(f"    {line}")
    decision, burst = result["decision"], result["burst"]
    print()
    print(f"open tickets: {result['open_tickets']:,}, agents: {result['agents']}")
    print(
        f"routing decision ({decision['samples']} decisions, {decision['assigned']} assigned): "
        f"median {decision['median_ms']:.2f} ms, p95 {decision['p95_ms']:.2f} ms, "
        f"p99 {decision['p99_ms']:.2f} ms, "
        f"max {decision['max_ms']:.2f} ms   target < {DECISION_TARGET_MS} ms: "
        f"{'met' if result['decision_target_met'] else 'NOT met'} (p95)"
    )
    phases = ", ".join(f"{name} {ms:.1f} ms" for name, ms in decision["phase_median_ms"].items())
    print(f"  per decision: {decision['queries']} SQL statements; its SELECTs execute in "
          f"{decision['server_execution_ms']:.2f} ms on the server (EXPLAIN ANALYZE above); "
          f"phase medians: {phases}")  # fmt: skip
    print(f"  load average {result['load_average']} on {os.cpu_count()} cores")  # fmt: skip
    print(f"burst: {burst['assigned']:,} of {burst['cases']:,} cases assigned to "
          f"{burst['agents']} agents in {burst['seconds']:.2f} s "
          f"({burst['cases_per_second']:,.0f}/s), {burst['still_waiting']} still waiting   "
          f"target < {BURST_TARGET_S} s")  # fmt: skip
    print(f"burst spread: load per agent min {burst['load_min']}, max {burst['load_max']} "
          f"(mean {burst['load_mean']}; gained {burst['gained_min']}-{burst['gained_max']})   "
          f"target within +-1 of equal: {'yes' if burst['within_one'] else 'NO'}")  # fmt: skip
    print(f"burst target: {'met' if result['burst_target_met'] else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--reseed", action="store_true", help="seed the database again")
    parser.add_argument("--tickets", type=int, default=TICKETS, help="open tickets to seed")
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000, help="waiting cases of the burst")
    parser.add_argument("--burst-agents", type=int, default=20)
    parser.add_argument("--json", default="routing.json", help="file under bench/results")
    options = parser.parse_args(argv)
    if not options.database.startswith("sd_bench_"):
        raise SystemExit("benchmark databases are named sd_bench_*")
    result = run(options)
    report(result)
    print(f"written to {write_json(options.json, result)}")
    return 0 if result["decision_target_met"] and result["burst_target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
