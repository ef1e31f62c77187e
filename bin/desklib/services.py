"""Which PostgreSQL and Redis the desk uses: the given URL, the machine's server, or its own
instance (PostgreSQL with its data in `.local/pg`, shared by the desks running at once;
Redis as a child process), and how to stop what it started."""

import fcntl
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from .base import LOCAL, VENV_BIN, DeskError, say, warn
from .probes import (
    free_port,
    port_is_free,
    postgres_problem,
    redacted,
    redis_ping,
    redis_problem,
    tcp_reachable,
)
from .processes import spawn_detached, stop_process

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
PG_FIRST_PORT = 55432
REDIS_FIRST_PORT = 56379
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; keep room for "/.s.PGSQL.NNNNN"


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
