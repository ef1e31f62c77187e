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
"""

import atexit
import base64
import ctypes
import fcntl
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import IO, NoReturn
from urllib.parse import SplitResult, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
VENV_BIN = ROOT / ".venv" / "bin"
MANAGE = ROOT / "manage.py"

DB_NAME = "servicedesk"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
PG_FIRST_PORT = 55432
REDIS_FIRST_PORT = 56379
WEB_FIRST_PORT = 8000
PORT_PROBE_COUNT = 200  # ports tried upward from the first one
CONNECT_TIMEOUT_SECONDS = 1.0
CHILD_STOP_SECONDS = 10.0
# Worker and beat are started again when they exit on their own (Celery can exit when the
# broker connection is lost), at most this often in five minutes; the web server is not.
RESTARTED_CHILDREN = ("worker", "beat")
MAX_RESTARTS_PER_5_MIN = 5
TEST_SECRET_KEY = "desk-test-only-secret-key-never-used-outside-tests-0123456789abcdef"
PG_SCHEMES = ("postgres", "postgresql", "pgsql")
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; keep room for "/.s.PGSQL.NNNNN"


class DeskError(Exception):
    """A problem the user can fix; printed without a traceback."""


def say(message: str) -> None:
    print(f"desk: {message}", flush=True)


def warn(message: str) -> None:
    print(f"desk: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- ports, URLs


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: a port with only TIME_WAIT connections left is free to listen on.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(first: int, skip: Sequence[int] = ()) -> int:
    for port in range(first, first + PORT_PROBE_COUNT):
        if port not in skip and port_is_free(port):
            return port
    raise DeskError(f"no free TCP port on 127.0.0.1 in {first}..{first + PORT_PROBE_COUNT - 1}")


def tcp_reachable(host: str, port: int, timeout: float = CONNECT_TIMEOUT_SECONDS) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def libpq_url(url: str, database: str | None = None) -> str:
    """`url` as libpq accepts it (it knows no `pgsql://`), optionally for another database."""
    parts = urlsplit(url)
    parts = parts._replace(scheme="postgresql")
    if database is not None:
        parts = parts._replace(path=f"/{database}")
    return urlunsplit(parts)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def redacted(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _port_of(parts: SplitResult, default: int) -> int:
    try:
        return parts.port or default
    except ValueError as error:
        raise DeskError(f"bad port in {redacted(urlunsplit(parts))}") from error


# --------------------------------------------------------------------------- PostgreSQL checks


def postgres_problem(url: str) -> str | None:
    """Why the server of `url` cannot be used (None: it can): TCP first, then a real login."""
    parts = urlsplit(url)
    if parts.scheme not in PG_SCHEMES:
        return f"not a PostgreSQL URL (scheme {parts.scheme!r})"
    if parts.hostname and not parts.hostname.startswith("/"):
        port = _port_of(parts, 5432)
        if not tcp_reachable(parts.hostname, port):
            return f"nothing listens on {parts.hostname}:{port}"
    try:
        import psycopg2
    except ImportError:
        return None  # the TCP check is all we can do without the driver
    # The server's `postgres` database first; some hosted servers allow only the app's own.
    databases = ["postgres"] + ([database_name(url)] if database_name(url) else [])
    problem = ""
    for database in databases:
        try:
            connection = psycopg2.connect(libpq_url(url, database), connect_timeout=3)
        except psycopg2.Error as error:
            problem = problem or first_line(error)
            continue
        connection.close()
        return None
    return problem


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


def ensure_database(url: str) -> bool:
    """Create the database of `url` if it does not exist; True if it was created."""
    import psycopg2
    from psycopg2 import errors, sql

    name = database_name(url)
    if not name:
        raise DeskError(f"DATABASE_URL names no database: {redacted(url)}")
    try:
        connection = psycopg2.connect(libpq_url(url, "postgres"), connect_timeout=5)
    except psycopg2.Error as error:
        try:  # some hosted servers let us into our own database only
            psycopg2.connect(libpq_url(url), connect_timeout=5).close()
            return False
        except psycopg2.Error:
            raise DeskError(f"cannot reach database {name}: {first_line(error)}") from error
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except errors.DuplicateDatabase:
        return False  # another desk created it a moment ago
    except psycopg2.Error as error:
        raise DeskError(f"cannot create database {name}: {first_line(error)}") from error
    finally:
        connection.close()


# --------------------------------------------------------------------------- Redis checks


def redis_problem(url: str) -> str | None:
    """Why the Redis of `url` cannot be used (None: it can): TCP first, then PING."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return f"not a Redis URL (scheme {parts.scheme!r})"
    if parts.scheme != "unix":
        host = parts.hostname or "127.0.0.1"
        port = _port_of(parts, 6379)
        if not tcp_reachable(host, port):
            return f"nothing listens on {host}:{port}"
    try:
        import redis
    except ImportError:
        return None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as error:
        return str(error) or repr(error)
    return None


def redis_ping(host: str, port: int) -> bool:
    """A raw PING, used while our own redis-server is starting."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# --------------------------------------------------------------------------- child processes

_libc: ctypes.CDLL | None = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        _libc = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """preexec_fn: Linux sends the child SIGTERM when desk dies, even by SIGKILL."""
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn_detached(
    argv: Sequence[str],
    *,
    cwd: Path,
    stdout: int | IO[bytes],
    env: Mapping[str, str] | None = None,
    die_with_parent: bool = True,
) -> subprocess.Popen[bytes]:
    """Start a child in its own session, so Ctrl-C reaches only desk, which stops it in order.

    With `die_with_parent`, call it only while no other thread runs: preexec_fn is not safe
    next to threads (a child started again later goes without it).
    """
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent if die_with_parent else None,
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = CHILD_STOP_SECONDS) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with _ignore_missing():
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def _ignore_missing() -> Iterator[None]:
    try:
        yield
    except ProcessLookupError:
        pass


@contextmanager
def signals_handled(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Install `handler` for SIGINT, SIGTERM and SIGHUP for the duration of the block."""
    names = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.getsignal(signum) for signum in names}
    for signum in names:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def run_foreground(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> int:
    """Run a child in the terminal's foreground (it reads stdin, gets Ctrl-C itself).

    While it runs, desk ignores Ctrl-C (the child handles it and exits; then desk cleans up)
    and passes SIGTERM/SIGHUP on to it.
    """
    process = subprocess.Popen(list(argv), env=dict(env), cwd=cwd)
    terminal_delivers_sigint = in_terminal_foreground()

    def forward(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and terminal_delivers_sigint:
            return  # the terminal sent it to the child as well; a second one would abort it
        if process.poll() is None:
            process.send_signal(signum)

    with signals_handled(forward):
        code = process.wait()
    return code if code >= 0 else 128 - code  # killed by signal N: 128 + N, as shells say


def in_terminal_foreground() -> bool:
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- services


@dataclass
class Services:
    """The PostgreSQL and Redis this desk uses, and how to stop the ones it started."""

    database_url: str = ""  # server URL, usually without a database name
    redis_url: str = ""  # server URL, usually without a db number
    redis_process: subprocess.Popen[bytes] | None = None  # when desk started redis-server
    _stoppers: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def on_stop(self, name: str, stopper: Callable[[], None]) -> None:
        self._stoppers.append((name, stopper))

    def dead_service(self) -> str | None:
        """The name of a service desk started that has died since, if any."""
        if self.redis_process is not None and self.redis_process.poll() is not None:
            return "redis-server"
        return None

    def stop(self) -> None:
        """Stop what desk started, newest first. Safe to call twice (atexit and finally)."""
        if not self._stoppers:
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            while self._stoppers:
                name, stopper = self._stoppers.pop()
                try:
                    stopper()  # it says what it did
                except Exception as error:  # report it and go on stopping the rest
                    warn(f"could not stop {name}: {error}")
        finally:
            signal.signal(signal.SIGINT, previous)


def own_services_forced() -> bool:
    return os.environ.get("DESK_OWN_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_services(services: Services) -> None:
    """Pick or start PostgreSQL and Redis; fill `services` and print what was chosen."""
    own = own_services_forced()
    services.database_url = pick_postgres(services, own)
    services.redis_url = pick_redis(services, own)


def pick_postgres(services: Services, own: bool) -> str:
    return pick_service(
        "PostgreSQL",
        "DATABASE_URL",
        DEFAULT_DATABASE_URL,
        postgres_problem,
        lambda: start_own_postgres(services),
        own=own,
    )


def pick_redis(services: Services, own: bool) -> str:
    return pick_service(
        "Redis",
        "REDIS_URL",
        DEFAULT_REDIS_URL,
        redis_problem,
        lambda: start_own_redis(services),
        own=own,
    )


def pick_service(
    label: str,
    variable: str,
    default_url: str,
    problem_of: Callable[[str], str | None],
    start_own: Callable[[], str],
    *,
    own: bool,
) -> str:
    """The URL in `variable` if it answers, else the machine's server at `default_url`, else
    (or when DESK_OWN_SERVICES=1) one started for the desk."""
    given = os.environ.get(variable, "").strip()
    if own:
        say(f"DESK_OWN_SERVICES=1: starting our own {label}")
    else:
        if given:
            problem = problem_of(given)
            if problem is None:
                say(f"{label}: using {variable} {redacted(given)}")
                return given
            warn(f"{variable} {redacted(given)} is not usable ({problem}); looking elsewhere")
        problem = problem_of(default_url)
        if problem is None:
            say(f"{label}: using the machine's server at {default_url}")
            return default_url
        say(f"{label}: none at {default_url} ({problem}); starting our own")
    return start_own()


# --- own PostgreSQL


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries: `pg_config --bindir`, else /usr/lib/postgresql."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            output = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(output))
        except (subprocess.SubprocessError, OSError):
            pass

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    raise DeskError(
        "no PostgreSQL server binaries (initdb, pg_ctl) found and no server reachable; "
        "install the Debian package `postgresql` (apt-get install postgresql) "
        "or set DATABASE_URL"
    )


@dataclass(frozen=True)
class PgRunner:
    """Runs PostgreSQL's tools as the `postgres` user when desk runs as root (they refuse root)."""

    bindir: Path
    owner: pwd.struct_passwd | None  # None: run as ourselves

    @classmethod
    def create(cls, bindir: Path) -> "PgRunner":
        if os.geteuid() != 0:
            return cls(bindir, None)
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as error:
            raise DeskError(
                "running as root, but PostgreSQL refuses root and there is no `postgres` user "
                "to run it as; run desk as a normal user or create that user"
            ) from error
        if not shutil.which("runuser"):
            raise DeskError("running as root needs `runuser` (util-linux) to start PostgreSQL")
        return cls(bindir, owner)

    def argv(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        if self.owner is None:
            return command
        return ["runuser", "-u", self.owner.pw_name, "--", *command]

    def give(self, path: Path) -> None:
        """Make `path` belong to the server's user."""
        if self.owner is not None:
            os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(tool, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",  # the postgres user may not be allowed into our working directory
            env=_pg_tool_env(),
            start_new_session=True,  # Ctrl-C must not reach the server it starts
        )


def _pg_tool_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"  # always installed; a missing locale would stop initdb
    return env


def _running_postmaster(data_dir: Path) -> int | None:
    """The port of a server already running from `data_dir` (a desk elsewhere, or a crash)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return port if comm.startswith("postgres") and tcp_reachable("127.0.0.1", port) else None


def _socket_dir(runner: PgRunner) -> Path:
    socket_dir = LOCAL / "pg-socket"
    if len(str(socket_dir)) > SOCKET_PATH_MAX - len("/.s.PGSQL.65535"):
        socket_dir = Path(tempfile.mkdtemp(prefix="desk-pg-"))
    socket_dir.mkdir(mode=0o700, exist_ok=True)
    runner.give(socket_dir)
    return socket_dir


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def start_own_postgres(services: Services) -> str:
    """Start (or join) the server of `.local/pg`; the last desk using it stops it.

    Every desk using the server holds a shared flock on `.local/pg.users.lock` (the kernel
    drops it even when desk is killed). Starting and stopping happen under an exclusive flock
    on `.local/pg.setup.lock`; a desk stops the server only if it can take the users lock
    exclusively, i.e. no other desk still uses it. A server left behind by a killed desk is
    joined and later stopped by the next desk.
    """
    bindir = postgres_bindir()
    runner = PgRunner.create(bindir)
    LOCAL.mkdir(exist_ok=True)
    users = (LOCAL / "pg.users.lock").open("a")
    try:
        with exclusive(LOCAL / "pg.setup.lock"):
            port, started = _start_or_join_postgres(runner)
            fcntl.flock(users, fcntl.LOCK_SH)
    except BaseException:
        users.close()
        raise
    services.on_stop("PostgreSQL", partial(_leave_postgres, runner, users, port))
    url = f"postgres://postgres@127.0.0.1:{port}"
    if started:
        say(f"PostgreSQL: started our own at {url} (data .local/pg, log .local/pg.log)")
    else:
        say(
            f"PostgreSQL: joined our own server already running at {url} (data .local/pg); "
            "the last desk using it stops it"
        )
    return url


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _leave_postgres(runner: PgRunner, users: IO[str], port: int) -> None:
    """Stop the `.local/pg` server unless another desk still uses it."""
    data_dir = LOCAL / "pg"
    try:
        with exclusive(LOCAL / "pg.setup.lock"):
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"PostgreSQL (port {port}) left running: another desk still uses it")
                return
            if _running_postmaster(data_dir) is None:
                return
            result = runner.run("pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop")
            if result.returncode != 0 and _running_postmaster(data_dir) is not None:
                raise DeskError(result.stderr.strip() or result.stdout.strip())
            say(f"stopped PostgreSQL (port {port}); its data stays in .local/pg")
    finally:
        users.close()


def _start_or_join_postgres(runner: PgRunner) -> tuple[int, bool]:
    """The port of the `.local/pg` server and whether we started it. Needs the setup lock."""
    data_dir = LOCAL / "pg"
    log_file = LOCAL / "pg.log"
    if runner.owner is not None:
        probe = subprocess.run(
            ["runuser", "-u", runner.owner.pw_name, "--", "test", "-x", str(LOCAL)], check=False
        )
        if probe.returncode != 0:
            raise DeskError(
                f"the `postgres` user cannot enter {LOCAL} (a parent directory is closed to it); "
                "move the repository or set DATABASE_URL"
            )

    if not (data_dir / "PG_VERSION").is_file():
        if data_dir.exists() and any(data_dir.iterdir()):
            raise DeskError(f"{data_dir} exists but holds no PostgreSQL cluster; remove it")
        data_dir.mkdir(mode=0o700, exist_ok=True)
        runner.give(data_dir)
        say(f"PostgreSQL: creating a cluster in .local/pg ({runner.bindir})")
        initdb = ["-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        result = runner.run("initdb", *initdb, "--locale=C.UTF-8")
        if result.returncode != 0:
            raise DeskError(f"initdb failed:\n{result.stdout}{result.stderr}")
    else:
        cluster = (data_dir / "PG_VERSION").read_text().strip()
        binaries = re.findall(r"\d+", runner.bindir.parent.name)
        if binaries and binaries[0] != cluster:
            raise DeskError(
                f"{data_dir} holds a PostgreSQL {cluster} cluster but the binaries in "
                f"{runner.bindir} are version {binaries[0]}; remove {data_dir} to start afresh"
            )

    running_port = _running_postmaster(data_dir)
    if running_port is not None:
        return running_port, False

    if not log_file.exists():
        log_file.touch(mode=0o600)
    runner.give(log_file)
    socket_dir = _socket_dir(runner)
    used: list[int] = []
    for _attempt in range(3):
        port = free_port(PG_FIRST_PORT, skip=used)
        used.append(port)
        options = f"-p {port} -k {shlex.quote(str(socket_dir))} -c listen_addresses=127.0.0.1"
        start = ["-D", str(data_dir), "-l", str(log_file), "-o", options, "-w", "-t", "60"]
        if runner.run("pg_ctl", *start, "start").returncode == 0:
            return port, True
        if port_is_free(port):
            break  # not a port taken in between: a real failure
    raise DeskError(f"PostgreSQL did not start; the end of {log_file}:\n{_tail(log_file)}")


# --- own Redis


def start_own_redis(services: Services) -> str:
    binary = shutil.which("redis-server", path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    if binary is None:
        raise DeskError(
            "no Redis reachable and no `redis-server` binary found; install the Debian package "
            "`redis-server` (apt-get install redis-server) or set REDIS_URL"
        )
    LOCAL.mkdir(exist_ok=True)
    used: list[int] = []
    for _attempt in range(3):
        port = free_port(REDIS_FIRST_PORT, skip=used)
        used.append(port)
        log_file = LOCAL / f"redis-{port}.log"  # one per port: two desks may run at once
        argv = shlex.split(
            f"{shlex.quote(binary)} --port {port} --bind 127.0.0.1 --save '' "
            "--appendonly no --daemonize no"
        )
        with log_file.open("wb") as log:
            process = spawn_detached(argv, stdout=log, cwd=LOCAL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            if redis_ping("127.0.0.1", port):
                services.redis_process = process
                services.on_stop(f"Redis (port {port})", partial(stop_redis, process, port))
                url = f"redis://127.0.0.1:{port}"
                say(f"Redis: started our own at {url} (log .local/{log_file.name})")
                return url
            time.sleep(0.05)
        stop_process(process, 2)
        if port_is_free(port):
            break  # not a port taken in between: a real failure
    raise DeskError(f"redis-server did not start; the end of {log_file}:\n{_tail(log_file)}")


def stop_redis(process: subprocess.Popen[bytes], port: int) -> None:
    stop_process(process, 5)
    say(f"stopped Redis (port {port})")


# --------------------------------------------------------------------------- environment


def stored_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret generated on first use and kept in `path` (mode 0600) for the next runs."""
    try:
        value = path.read_text().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    LOCAL.mkdir(exist_ok=True)
    value = make()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return value


def new_fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def desk_environment(services: Services, *, for_tests: bool) -> dict[str, str]:
    """The variables desk sets for its children (they win over the caller's)."""
    database_url = services.database_url
    if not database_name(database_url):
        database_url = with_path(database_url, f"/{DB_NAME}")
    redis_url = services.redis_url
    if not urlsplit(redis_url).path.strip("/"):
        redis_url = with_path(redis_url, "/1" if for_tests else "/0")
    given_secret = os.environ.get("SECRET_KEY", "").strip()
    if for_tests:
        secret_key = given_secret or TEST_SECRET_KEY
    else:
        secret_key = given_secret or stored_secret(
            LOCAL / "secret_key", lambda: secrets.token_urlsafe(50)
        )
    field_key = os.environ.get("FIELD_ENCRYPTION_KEY", "").strip() or stored_secret(
        LOCAL / "field_key", new_fernet_key
    )
    variables = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secret_key,
        "FIELD_ENCRYPTION_KEY": field_key,
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    if not for_tests:
        # DEBUG stays off (issue 17): the demo runs as production does, static files through
        # WhiteNoise, the desk's own error pages. Its printed logins work with the password
        # alone; two-factor sign-in stays optional there (README "Demo logins").
        variables["TWO_FACTOR_REQUIRED"] = "0"
    return variables


def write_env_file(variables: Mapping[str, str], path: Path, command: str) -> None:
    """Write `export NAME=value` lines so another terminal can `source` them."""
    LOCAL.mkdir(exist_ok=True)
    lines = [
        f"# Written by ./desk {command} at {time.strftime('%Y-%m-%d %H:%M:%S')}; "
        "the services it names may stop when that desk exits.",
        *(f"export {name}={shlex.quote(value)}" for name, value in variables.items()),
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def child_environment(variables: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(variables)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    env["PYTHONUNBUFFERED"] = "1"  # children's lines appear as they happen
    return env


def prepare(
    command: str, *, env_file: str | None, for_tests: bool = False
) -> tuple[Services, dict[str, str]]:
    """Services up, variables resolved and written to `.local/<env_file>` for other terminals."""
    services = Services()
    atexit.register(services.stop)
    resolve_services(services)
    variables = desk_environment(services, for_tests=for_tests)
    env = child_environment(variables)
    if env_file is not None:
        path = LOCAL / env_file
        write_env_file(variables, path, command)
        env["DESK_ENV_FILE"] = str(path)
    return services, env


# --------------------------------------------------------------------------- run


def stack_commands(port: int) -> dict[str, list[str]]:
    """What `./desk run` starts side by side (docker-compose.yml runs the same programs)."""
    schedule = shlex.quote(str(LOCAL / "celerybeat-schedule"))
    return {
        name: shlex.split(command)
        for name, command in {
            "web": f"gunicorn servicedesk.wsgi --bind 127.0.0.1:{port} "
            "--workers 2 --threads 4 --access-logfile -",
            "worker": "celery -A servicedesk worker --loglevel=INFO --concurrency 2",
            "beat": f"celery -A servicedesk beat --loglevel=INFO --schedule {schedule}",
        }.items()
    }


def venv_program(argv: Sequence[str]) -> list[str]:
    program = VENV_BIN / argv[0]
    return [str(program) if program.exists() else argv[0], *argv[1:]]


def web_port() -> int:
    given = os.environ.get("PORT", "").strip()
    if not given:
        return free_port(WEB_FIRST_PORT)
    try:
        port = int(given)
    except ValueError as error:
        raise DeskError(f"PORT={given!r} is not a number") from error
    if not port_is_free(port):
        raise DeskError(f"PORT={port} is taken on 127.0.0.1; choose another or unset PORT")
    return port


_output_lock = threading.Lock()


def pump(name: str, width: int, stream: IO[bytes]) -> None:
    """Copy a child's output to ours, each line prefixed with the child's name."""
    prefix = f"{name:<{width}} | ".encode()
    out = sys.stdout.buffer
    for line in iter(stream.readline, b""):
        with _output_lock:
            out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
            out.flush()
    stream.close()


def supervise(
    commands: Mapping[str, Sequence[str]], env: Mapping[str, str], services: Services
) -> int:
    """Run the children until Ctrl-C/SIGTERM (0) or until one of them dies (non-zero)."""
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    processes: dict[str, subprocess.Popen[bytes]] = {}
    pumps: list[threading.Thread] = []
    width = max(len(name) for name in commands)
    exit_code = 0
    with signals_handled(on_signal):
        try:
            for name, argv in commands.items():
                processes[name] = spawn_detached(
                    venv_program(argv), env=env, cwd=ROOT, stdout=subprocess.PIPE
                )
            # Threads only now: spawn_detached's preexec_fn must not run next to threads.
            pumps += [
                threading.Thread(
                    target=pump, args=(name, width, process.stdout), daemon=True, name=name
                )
                for name, process in processes.items()
                if process.stdout is not None
            ]
            for thread in pumps:
                thread.start()
            restarts: dict[str, list[float]] = {name: [] for name in RESTARTED_CHILDREN}
            while not received:
                ended = {name: process.poll() for name, process in processes.items()}
                failed = [(name, code) for name, code in ended.items() if code is not None]
                if failed:
                    name, code = failed[0]
                    recent = [at for at in restarts.get(name, []) if time.monotonic() - at < 300]
                    if name in RESTARTED_CHILDREN and len(recent) < MAX_RESTARTS_PER_5_MIN:
                        # Celery can exit on a lost broker; start it again as a supervisor would.
                        warn(f"{name} exited with code {code}; starting it again")
                        restarts[name] = [*recent, time.monotonic()]
                        processes[name] = spawn_detached(
                            venv_program(commands[name]),
                            env=env,
                            cwd=ROOT,
                            stdout=subprocess.PIPE,
                            die_with_parent=False,  # the pump threads run now
                        )
                        thread = threading.Thread(
                            target=pump,
                            args=(name, width, processes[name].stdout),
                            daemon=True,
                            name=name,
                        )
                        thread.start()
                        pumps.append(thread)
                        continue
                    warn(f"{name} exited with code {code}; stopping everything")
                    exit_code = code if code > 0 else 128 - code if code < 0 else 1
                    break
                dead = services.dead_service()
                if dead:
                    warn(f"{dead} (started by desk) died; stopping everything")
                    exit_code = 1
                    break
                time.sleep(0.3)
            if received:
                say(f"{signal.Signals(received[0]).name}: stopping web, worker and beat")
        finally:
            stop_children(processes)
            for thread in pumps:
                thread.join(timeout=2)  # let the last lines (shutdown messages) through
    return exit_code


def stop_children(processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM all, wait up to CHILD_STOP_SECONDS together, then SIGKILL what is left."""
    for process in processes.values():
        if process.poll() is None:
            with _ignore_missing():
                process.terminate()
    deadline = time.monotonic() + CHILD_STOP_SECONDS
    for name, process in processes.items():
        try:
            process.wait(max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            warn(f"{name} did not stop within {CHILD_STOP_SECONDS:.0f} s; killing it")
            with _ignore_missing():
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def banner(port: int, *, demo: bool) -> None:
    url = f"http://127.0.0.1:{port}/"
    logins = (
        "Logins: printed by seed_demo above."
        if demo
        else "No demo data (--no-demo): create a login with ./desk manage createsuperuser"
    )
    lines = [
        f"Social Service Desk: {url}",
        logins,
        "Two-factor sign-in: optional in the demo (production: required for admin, team leads)",
        f"Admin: {url}admin/",
        "Environment for another terminal: source .local/env",
        "Stop everything with Ctrl-C.",
    ]
    rule = "=" * (max(len(line) for line in lines) + 4)
    print("\n".join([rule, *(f"  {line}" for line in lines), rule]), flush=True)


def command_run(args: Sequence[str]) -> int:
    demo = True
    for arg in args:
        if arg == "--no-demo":
            demo = False
        else:
            raise DeskError(f"unknown option for run: {arg} (only --no-demo)")
    services, env = prepare("run", env_file="env")
    if ensure_database(env["DATABASE_URL"]):
        say(f"created database {database_name(env['DATABASE_URL'])}")
    python = sys.executable
    code = run_foreground([python, str(MANAGE), "migrate", "--noinput"], env=env, cwd=ROOT)
    if code != 0:
        warn(f"migrate failed (exit {code})")
        return code
    if demo:
        code = run_foreground([python, str(MANAGE), "seed_demo"], env=env, cwd=ROOT)
        if code != 0:
            warn(f"seed_demo failed (exit {code})")
            return code
    port = web_port()
    banner(port, demo=demo)
    return supervise(stack_commands(port), env, services)


# --------------------------------------------------------------------------- test, manage


def command_test(args: Sequence[str]) -> int:
    _services, env = prepare("test", env_file="env.test", for_tests=True)
    if shutil.which("chromium") is None:
        warn(
            "note: no `chromium` binary: the browser tests need it "
            "(apt-get install chromium; .ci/run installs it)"
        )
    steps = [
        ("ruff check", venv_program(["ruff", "check", "."]), ROOT),
        ("ruff format --check", venv_program(["ruff", "format", "--check", "."]), ROOT),
        ("pytest", [sys.executable, "-m", "pytest", *args], Path.cwd()),
    ]
    for title, argv, cwd in steps:
        say(f"--- {title}")
        code = run_foreground(argv, env=env, cwd=cwd)
        if code != 0:
            warn(f"{title} failed (exit {code})")
            return code
    return 0


def command_manage(args: Sequence[str]) -> int:
    _services, env = prepare("manage", env_file="env.manage")
    if ensure_database(env["DATABASE_URL"]):
        say(f"created database {database_name(env['DATABASE_URL'])}")
    return run_foreground([sys.executable, str(MANAGE), *args], env=env, cwd=Path.cwd())


def command_services_check(args: Sequence[str]) -> int:
    if args:
        raise DeskError("services-check takes no arguments")
    _services, env = prepare("services-check", env_file=None)
    database_url, redis_url = env["DATABASE_URL"], env["REDIS_URL"]
    if ensure_database(database_url):
        say(f"created database {database_name(database_url)}")
    say(f"DATABASE_URL={redacted(database_url)}")
    say(f"REDIS_URL={redacted(redis_url)}")

    import psycopg2
    import redis

    connection = psycopg2.connect(libpq_url(database_url), connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1, current_database(), version()")
            one, name, version = cursor.fetchone()
    finally:
        connection.close()
    say(f"PostgreSQL: SELECT 1 -> {one} in database {name} ({version.split(',')[0]})")
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    pong = client.ping()
    info = client.info("server")
    client.close()
    say(f"Redis: PING -> {pong} (redis {info.get('redis_version')}, port {info.get('tcp_port')})")
    return 0 if one == 1 and pong else 1


# --------------------------------------------------------------------------- main

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
