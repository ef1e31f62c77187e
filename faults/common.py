"""What every drill shares: a private stack (PostgreSQL, Redis, migrated database, web,
worker, beat as real child processes), an HTTP client for the API, SQL for the checks,
bounded waits and the verdict.

A drill is a function `run(stack) -> Verdict`; faults/run.py builds the stack, bounds the
drill's time and always tears everything down.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg2

from faults.services import PrivatePostgres, PrivateRedis, desk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "faults" / "results"
VENV_BIN = ROOT / ".venv" / "bin"
DATABASE = "servicedesk_drill"
WEB_FIRST_PORT = 48000


class DrillTimeout(Exception):
    """The drill ran past its time bound."""


@dataclass
class Verdict:
    name: str
    passed: bool
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        return f"VERDICT {self.name}: {'PASS' if self.passed else 'FAIL'} — {self.summary}"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def say(drill: str, message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {drill}: {message}", flush=True)


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.5) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds passed (False)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return True
        except Exception:  # a check that cannot run yet (service restarting) is "not yet"
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- API client


class Api:
    """A token client for the desk's REST API; one per thread (httpx clients are not
    shared across threads here). Network errors answer status 0 instead of raising."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self.client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Token {token}", "Accept": "application/json"},
            timeout=timeout,
        )

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self._call("POST", path, body)

    def get(self, path: str) -> tuple[int, Any]:
        return self._call("GET", path, None)

    def _call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as error:
            return 0, {"transport_error": type(error).__name__}
        try:
            data = response.json()
        except ValueError:
            data = {"non_json": response.text[:200]}
        return response.status_code, data

    def close(self) -> None:
        self.client.close()


def mention(external_id: str, *, channel: str, handle: str, text: str = "", **extra: Any) -> dict:
    """A mention in the API's shape (DESIGN §6), created a few seconds ago."""
    return {
        "channel": channel,
        "external_id": external_id,
        "author": {"handle": handle, "display_name": handle.title()},
        "text": text or f"Drill mention {external_id}: my train is late, please help.",
        "created_at": iso(utcnow() - timedelta(seconds=5)),
        **extra,
    }


# --------------------------------------------------------------------------- the stack


def submit_holding_replies(
    pusher: "Api", author: "Api", *, channel: str, prefix: str, handle: str, count: int
) -> list[int]:
    """`count` new tickets (one pushed mention each) with a public holding reply `author`
    submitted for review; returns the reply ids."""
    status, body = pusher.post(
        "/api/v1/mentions/",
        [mention(f"{prefix}-{n}", channel=channel, handle=f"{handle}_{n}") for n in range(count)],
    )
    assert status == 201, (status, body)
    reply_ids = []
    for result in body["results"]:
        status, reply = author.post(
            f"/api/v1/tickets/{result['ticket']}/replies/",
            {
                "text": "Thank you, we are on it and will get back to you shortly.",
                "visibility": "public",
                "kind": "holding",
                "in_reply_to_mention": result["id"],
                "submit": True,
            },
        )
        assert status == 201, (status, reply)
        reply_ids.append(reply["id"])
    return reply_ids


class Stack:
    """Private PostgreSQL + Redis, the migrated database and the desk's processes.

    Use as a context manager: everything started is stopped (children by SIGKILL of their
    process group if SIGTERM does not end them) and the temporary directory is removed.
    """

    def __init__(self, drill: str, *, env: dict[str, str] | None = None) -> None:
        self.drill = drill
        self.workdir = Path(tempfile.mkdtemp(prefix=f"sd-faults-{drill}-"))
        os.chmod(self.workdir, 0o755)  # the postgres user enters it
        self.logdir = RESULTS / "logs" / drill
        shutil.rmtree(self.logdir, ignore_errors=True)
        self.logdir.mkdir(parents=True)
        self.postgres = PrivatePostgres(self.workdir)
        self.redis = PrivateRedis(self.workdir)
        self.extra_env = env or {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.web_port = 0
        self._lock = threading.Lock()

    # ---- lifecycle

    def __enter__(self) -> "Stack":
        try:
            self.postgres.init()
            self.postgres.start()
            self.postgres.create_database(DATABASE)
            self.redis.start()
            self.manage("migrate", "--noinput", timeout=300)
        except BaseException:
            self.close()
            raise
        say(
            self.drill,
            f"PostgreSQL :{self.postgres.port}, Redis :{self.redis.port}, migrated",
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        for service in (self.redis, self.postgres):
            try:
                service.destroy()
            except Exception as error:  # go on tearing down the rest
                say(self.drill, f"teardown of {type(service).__name__} failed: {error}")
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- environment and commands

    @property
    def database_url(self) -> str:
        return self.postgres.url(DATABASE)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in list(env):
            if name.startswith(("PG", "CELERY_")):
                del env[name]
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url(0),
                "SECRET_KEY": "faults-drill-secret-key-" + "x" * 40,
                "FIELD_ENCRYPTION_KEY": "dHJpbGwtZHJpbGwtZHJpbGwtZHJpbGwtZHJpbGwtMTI=",
                "SECURE_SSL_REDIRECT": "0",
                "DEBUG": "0",
                "API_RATE_LIMIT": "1000000/min",
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
                "PYTHONUNBUFFERED": "1",
                "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
                "POLL_DISPATCH_SECONDS": "1",
                "SLA_SWEEP_SECONDS": "2",
                "LOG_LEVEL": "INFO",
            }
        )
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, timeout: float = 120, input_text: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input_text,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    def django(self, code: str, timeout: float = 300) -> Any:
        """Run `code` in a Django shell process; it must print one JSON document last."""
        output = self.manage("shell", "-c", code, timeout=timeout)
        return json.loads(output.strip().splitlines()[-1])

    def token(self, name: str, *groups: str, superuser: bool = False) -> str:
        args = ["create_api_client", name]
        for group in groups:
            args += ["--group", group]
        if superuser:
            args.append("--superuser")
        return self.manage(*args).strip().splitlines()[-1]

    def sql(self, query: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        connection = psycopg2.connect(desk.libpq_url(self.database_url), connect_timeout=5)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(query, list(params))
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def scalar(self, query: str, params: Iterable[Any] = ()) -> Any:
        return self.sql(query, params)[0][0]

    # ---- processes

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a child in its own process group; its output goes to the drill's log dir."""
        with self._lock, (self.logdir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.processes[name] = process
        return process

    def start_web(self, workers: int = 2, threads: int = 8, name: str = "web") -> str:
        """Start gunicorn as process `name` (several names: several web machines); its URL.
        `base_url` is the one started last."""
        self.web_port = desk.free_port(WEB_FIRST_PORT)
        self.spawn(
            name,
            [
                str(VENV_BIN / "gunicorn"),
                "servicedesk.wsgi",
                "-b",
                f"127.0.0.1:{self.web_port}",
                "-w",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
            ],
        )
        url = self.base_url
        if not wait_until(
            lambda: httpx.get(url + "/api/v1/", timeout=2).status_code > 0, timeout=60
        ):
            raise RuntimeError("gunicorn did not answer within 60 s")
        return url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_worker(self, name: str = "worker", concurrency: int = 2) -> subprocess.Popen[bytes]:
        return self.spawn(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "servicedesk",
                "worker",
                "--pool",
                "prefork",
                "-c",
                str(concurrency),
                "--loglevel",
                "INFO",
                "-n",
                f"{self.drill}-{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def start_beat(self) -> subprocess.Popen[bytes]:
        schedule = self.workdir / "celerybeat-schedule"
        return self.spawn(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "servicedesk",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(schedule),
            ],
        )

    def stop(self, name: str, timeout: float = 15) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group(process)

    @staticmethod
    def kill_group(process: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)

    def alive(self, name: str) -> bool:
        process = self.processes.get(name)
        return process is not None and process.poll() is None

    def restart_if_dead(self, name: str) -> bool:
        """What a process supervisor does (compose `restart: unless-stopped`, systemd
        `Restart=on-failure`, `./desk run`): start a worker or beat again that exited."""
        if self.alive(name):
            return False
        self.processes.pop(name, None)
        if name == "beat":
            self.start_beat()
        else:
            self.start_worker(name)
        return True


# --------------------------------------------------------------------------- process helpers


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(value) for value in text.split()]


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


def busy_children(pid: int, sample_seconds: float = 0.3) -> list[int]:
    """Children of `pid` that used CPU during the sample (the pool processes at work)."""
    before = {child: cpu_ticks(child) for child in children_of(pid)}
    time.sleep(sample_seconds)
    return [child for child, ticks in before.items() if cpu_ticks(child) > ticks >= 0]


# --------------------------------------------------------------------------- consistency


def consistency_problems(stack: Stack) -> dict[str, int]:
    """The "no half-written ticket" checks: each count must be 0."""
    return {
        "mentions_without_ticket": stack.scalar(
            "SELECT count(*) FROM monitoring_mention WHERE ticket_id IS NULL AND NOT is_own_account"
        ),
        "tickets_without_mention": stack.scalar(
            "SELECT count(*) FROM tickets_ticket t WHERE NOT EXISTS "
            "(SELECT 1 FROM monitoring_mention m WHERE m.ticket_id = t.id)"
        ),
        "mention_count_mismatch": stack.scalar(
            "SELECT count(*) FROM tickets_ticket t WHERE t.mention_count <> "
            "(SELECT count(*) FROM monitoring_mention m WHERE m.ticket_id = t.id)"
        ),
        "live_new_tickets_without_first_response_clock": stack.scalar(
            "SELECT count(*) FROM tickets_ticket t WHERE t.state = 'new' AND t.starts_clocks "
            "AND NOT EXISTS (SELECT 1 FROM tickets_slaclock c WHERE c.ticket_id = t.id "
            "AND c.kind = 'first_response')"
        ),
    }


def report_fact_drift(stack: Stack) -> int:
    """Keys of the dashboard's report facts whose stored sum differs from what the source rows
    say (`sd_report_facts_drift`): the triggers must have counted every committed change
    once, and nothing a killed or cut-off transaction left undone."""
    return stack.scalar("SELECT count(*) FROM sd_report_facts_drift()")


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run `calls` in threads released together by a barrier; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def call(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    run_threads([partial(call, index) for index in range(len(calls))])
    return results


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
