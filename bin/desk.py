"""The desk's developer command: services, environment, run, test, manage.

Started by `./desk` (which prepares `.venv`) as `.venv/bin/python bin/desk.py COMMAND ...`:

    run [--no-demo]    migrate, seed the demo data, then web + Celery worker + beat together
    test [ARGS...]     ruff check, ruff format --check, pytest ARGS
    manage ARGS...     manage.py ARGS with the environment of `run`
    services-check     start/find PostgreSQL and Redis, SELECT 1 and PING, stop again

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL when set and reachable, else from the
machine's defaults (127.0.0.1:5432, 127.0.0.1:6379), else the desk starts its own: PostgreSQL
with its data under `.local/pg` (kept for the next run), Redis as a child process. It stops
what it started when it exits. DESK_OWN_SERVICES=1 skips the first two choices.

Standard library only: psycopg2 and redis (both in requirements.txt) are imported lazily.

This script reads the command line and dispatches; the work is done in the package next to
it, bin/desklib/ (its docstring lists the modules).
"""

import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

# bin/, for desklib: Python puts a script's directory first, but not under -P/PYTHONSAFEPATH.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from desklib.base import DeskError, warn
from desklib.commands import command_manage, command_run, command_services_check, command_test

COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "run": command_run,
    "test": command_test,
    "manage": command_manage,
    "services-check": command_services_check,
}

USAGE = """usage: ./desk COMMAND [ARGS...]

  run [--no-demo]   migrate, seed demo data, run web + Celery worker + beat (Ctrl-C stops)
  test [ARGS...]    ruff check, ruff format --check, then pytest ARGS (e.g. -k intake)
  manage ARGS...    manage.py ARGS with the environment of run (createsuperuser, ...)
  services-check    find or start PostgreSQL and Redis, SELECT 1 and PING, stop again

Environment: DATABASE_URL, REDIS_URL (used when reachable), PORT (web), SECRET_KEY,
FIELD_ENCRYPTION_KEY (else generated once in .local/), DESK_OWN_SERVICES=1 (always start
own PostgreSQL/Redis)."""


def _exit_on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)  # so that atexit stops the services


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0 if argv else 2
    command = COMMANDS.get(argv[0])
    if command is None:
        warn(f"unknown command {argv[0]!r}\n{USAGE}")
        return 2
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    try:
        return command(argv[1:])
    except DeskError as error:
        warn(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        warn("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
