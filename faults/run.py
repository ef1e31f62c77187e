"""Run the fault-tolerance drills: `.venv/bin/python -m faults.run [drill ...]`.

Each drill gets its own private PostgreSQL and Redis on free ports (never the machine's
shared 5432/6379), its own migrated database and real processes (gunicorn, Celery worker,
Celery beat), and a time bound; it ends with a line

    VERDICT <name>: PASS|FAIL — <figures>

Drills are named by letter or name: a worker_kill, b redis_down, c postgres_restart,
d one_mention_ten_clients, e two_agents_one_ticket, f beat_stopped, g scale_out. Without
arguments all run in that order. The exit code is 1 if any drill failed; the verdicts and
figures are written to faults/results/last_run.json, the processes' logs to
faults/results/logs/<drill>/.
"""

import importlib
import json
import signal
import sys
import time
import traceback
from types import FrameType, ModuleType

from faults.common import RESULTS, DrillTimeout, Stack, Verdict

DRILLS = {
    "a": "faults.drill_a_worker_kill",
    "b": "faults.drill_b_redis_down",
    "c": "faults.drill_c_postgres_restart",
    "d": "faults.drill_d_one_mention_ten_clients",
    "e": "faults.drill_e_two_agents_one_ticket",
    "f": "faults.drill_f_beat_stopped",
    "g": "faults.drill_g_scale_out",
}


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise DrillTimeout("time bound exceeded")


def resolve(names: list[str]) -> list[ModuleType]:
    modules = {letter: importlib.import_module(path) for letter, path in DRILLS.items()}
    if not names:
        return list(modules.values())
    chosen = []
    for name in names:
        found = [m for letter, m in modules.items() if name in (letter, m.NAME)]
        if not found:
            known = ", ".join(f"{letter} {m.NAME}" for letter, m in modules.items())
            raise SystemExit(f"unknown drill {name!r}; known: {known}")
        chosen += found
    return chosen


def run_drill(module: ModuleType) -> Verdict:
    started = time.monotonic()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(module.BUDGET_SECONDS)
    try:
        with Stack(module.NAME, env=getattr(module, "ENV", None)) as stack:
            verdict = module.run(stack)
    except DrillTimeout:
        verdict = Verdict(module.NAME, False, f"did not finish within {module.BUDGET_SECONDS} s")
    except Exception as error:
        traceback.print_exc()
        verdict = Verdict(module.NAME, False, f"error: {type(error).__name__}: {error}"[:300])
    finally:
        signal.alarm(0)
    verdict.seconds = round(time.monotonic() - started, 1)
    return verdict


def main(argv: list[str]) -> int:
    modules = resolve(argv)
    verdicts = []
    for module in modules:
        print(f"=== drill {module.NAME} (bound {module.BUDGET_SECONDS} s)", flush=True)
        verdict = run_drill(module)
        print(verdict.line(), flush=True)
        verdicts.append(verdict)
    print("=== summary", flush=True)
    for verdict in verdicts:
        print(f"{verdict.line()}  [{verdict.seconds:.0f} s]", flush=True)
    failed = [v.name for v in verdicts if not v.passed]
    print(
        f"{len(verdicts) - len(failed)} of {len(verdicts)} drills passed"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        flush=True,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "last_run.json").write_text(
        json.dumps(
            {
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "drills": [v.as_json() for v in verdicts],
                "passed": not failed,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
