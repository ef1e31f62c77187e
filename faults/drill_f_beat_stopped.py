"""(f) Beat stopped while 2,000 clocks with deadlines spread over the past 30 minutes
accumulate → every breach caught up once, with its true deadline.

With the worker running and beat stopped, 2,000 mentions are taken in through the real
intake (`tickets.intake.receive_mentions`, in a Django process) with `now` passed in,
spread from 40 to 10 minutes ago in 100 batches: their first-response clocks (10 min)
fell due over the past 30 minutes and their warnings before that, while no sweep ran.
Then beat starts and, at the same moment, a second sweep runs in a separate process
(two sweeps overlapping). Every clock must get exactly one breach carrying its own due_at,
one breach event, one raise of priority (normal → high) and one escalation per team lead;
the warnings are recorded without a notification (their breach was already past). A few
sweeps later nothing may have changed.
"""

import subprocess
import sys
import time

from faults.common import ROOT, Api, Stack, Verdict, say, wait_until

NAME = "beat_stopped"
BUDGET_SECONDS = 240
CLOCKS = 2_000
CHANNEL = "drill-f"
CATCH_UP_WAIT_SECONDS = 120

BACKDATED_INTAKE = f"""
import json
from datetime import timedelta
from django.utils import timezone
from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.models import Channel
from tickets.intake import receive_mentions

channel = Channel.objects.get(slug={CHANNEL!r})
start = timezone.now()
batches, size = 100, {CLOCKS} // 100
for batch in range(batches):
    now = start - timedelta(minutes=40) + timedelta(seconds=batch * 1800 / batches)
    mentions = [
        RawMention(
            external_id=f"f-{{batch}}-{{n}}",
            author=RawAuthor(handle=f"kunde_{{batch}}_{{n}}"),
            text="Where is my refund?",
            created_at=now - timedelta(seconds=20),
        )
        for n in range(size)
    ]
    receive_mentions(channel, mentions, now=now)
print(json.dumps({{"start": start.isoformat()}}))
"""

SWEEP_NOW = """
import json
from django.utils import timezone
from tickets.actions import run_sweeps
print(json.dumps({"recorded": run_sweeps(now=timezone.now())}))
"""


def run(stack: Stack) -> Verdict:
    base_url = stack.start_web()
    stack.start_worker()
    admin = Api(base_url, stack.token("drill-admin", superuser=True))
    status, body = admin.post(
        "/api/v1/channels/", {"slug": CHANNEL, "platform": "webhook", "name": "F"}
    )
    assert status == 201, (status, body)
    stack.token("lead-1", "team_lead")
    stack.token("lead-2", "team_lead")
    stack.token("cm-1", "community_manager")
    stack.django(BACKDATED_INTAKE)
    clocks, overdue, breaches_before = stack.sql(
        "SELECT count(*), count(*) FILTER (WHERE due_at < now()), "
        "(SELECT count(*) FROM tickets_slabreach) FROM tickets_slaclock"
    )[0]
    say(NAME, f"{clocks} clocks, {overdue} overdue, {breaches_before} breaches; starting beat")
    beat_started = stack.scalar("SELECT now()")
    started = time.monotonic()
    stack.start_beat()
    second_sweep = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", SWEEP_NOW],
        cwd=ROOT,
        env=stack.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )

    def caught_up() -> bool:
        return stack.scalar("SELECT count(*) FROM tickets_slabreach") >= CLOCKS

    done = wait_until(caught_up, timeout=CATCH_UP_WAIT_SECONDS, interval=0.5)
    caught_up_in = round(time.monotonic() - started, 1)
    second_sweep.wait(60)
    time.sleep(6)  # three more sweeps: nothing may change

    def figures_now() -> dict:
        row = stack.sql(
            """SELECT
                (SELECT count(*) FROM tickets_slabreach),
                (SELECT count(*) FROM tickets_slabreach b JOIN tickets_slaclock c
                   ON c.id = b.clock_id WHERE b.due_at <> c.due_at),
                (SELECT count(*) FROM tickets_slabreach WHERE detected_at < %s),
                (SELECT count(*) FROM tickets_slaclock WHERE warned_at IS NULL),
                (SELECT count(*) FROM tickets_ticketevent WHERE kind = 'sla_breach'),
                (SELECT count(*) FROM tickets_ticketevent WHERE kind = 'sla_warning'),
                (SELECT count(*) FROM tickets_notification WHERE kind = 'sla_breach'),
                (SELECT count(*) FROM tickets_notification WHERE kind = 'sla_warning'),
                (SELECT count(*) FROM tickets_ticket WHERE priority = 'high'),
                (SELECT min(due_at) FROM tickets_slabreach),
                (SELECT max(due_at) FROM tickets_slabreach)""",
            [beat_started],
        )[0]
        keys = [
            "breaches",
            "due_at_mismatches",
            "detected_before_beat_started",
            "clocks_not_warned",
            "breach_events",
            "warning_events",
            "breach_notifications",
            "warning_notifications",
            "tickets_raised_to_high",
            "earliest_due",
            "latest_due",
        ]
        return dict(zip(keys, row, strict=True))

    result = figures_now()
    time.sleep(4)
    again = figures_now()
    leads = 2
    passed = (
        done
        and clocks == CLOCKS
        and overdue == CLOCKS
        and breaches_before == 0
        and result["breaches"] == CLOCKS
        and result["due_at_mismatches"] == 0
        and result["detected_before_beat_started"] == 0
        and result["clocks_not_warned"] == 0
        and result["breach_events"] == CLOCKS
        and result["warning_events"] == CLOCKS
        and result["breach_notifications"] == CLOCKS * leads
        and result["warning_notifications"] == 0
        and result["tickets_raised_to_high"] == CLOCKS
        and again == result
    )
    spread = result["latest_due"] - result["earliest_due"] if result["earliest_due"] else None
    figures = {
        "clocks": clocks,
        "overdue_before_beat": overdue,
        **{k: str(v) if k in ("earliest_due", "latest_due") else v for k, v in result.items()},
        "deadline_spread_minutes": round(spread.total_seconds() / 60, 1) if spread else None,
        "caught_up_seconds": caught_up_in if done else None,
        "unchanged_after_more_sweeps": again == result,
        "second_sweep_output": (second_sweep.stdout.read() or b"").decode()[-200:]
        if second_sweep.stdout
        else "",
    }
    summary = (
        f"{clocks} overdue clocks (deadlines over {figures['deadline_spread_minutes']} min), "
        f"{result['breaches']} breaches in {caught_up_in} s after beat restart, "
        f"{result['due_at_mismatches']} with a wrong due_at, "
        f"{result['breach_events']} breach events, {result['breach_notifications']} escalations "
        f"for {leads} team leads, {result['warning_notifications']} late warnings notified, "
        f"{'no change' if again == result else 'CHANGES'} after more sweeps"
    )
    return Verdict(NAME, passed, summary, figures)
