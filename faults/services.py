"""Private PostgreSQL and Redis servers for the drills, built from bin/desklib's pieces.

bin/desk.py starts *one* shared development server (`.local/pg`); a drill needs its own
throw-away cluster and Redis on free ports that it can stop and start again at will. This
module reuses desk's tools (binary lookup, running the server tools as `postgres` when we
are root, free ports, PING) and only adds the lifecycle of a private instance.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bin/desklib holds the desk's pieces (bin/ itself is no package).
sys.path.append(str(Path(__file__).resolve().parent.parent / "bin"))

from desklib import probes as desk
from desklib.base import VENV_BIN
from desklib.processes import stop_process
from desklib.services import PgRunner, _tail, postgres_bindir

PG_FIRST_PORT = 45432  # away from the machine's 5432 and desk's own 55432
REDIS_FIRST_PORT = 46379  # away from 6379 and desk's 56379


class ServiceError(Exception):
    """A private service would not start or stop."""


class PrivatePostgres:
    """A fresh cluster in a temporary directory, on a free port; `stop()`/`start()` keep
    the data and the port (a restart), `destroy()` removes everything."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir / "pg"
        self.data_dir = self.root / "data"
        self.log_file = self.root / "postgres.log"
        self.socket_dir = Path(tempfile.mkdtemp(prefix="sdf-pg-"))  # short: sun_path limit
        self.runner = PgRunner.create(postgres_bindir())
        self.port = desk.free_port(PG_FIRST_PORT)

    @property
    def server_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def url(self, database: str) -> str:
        return f"{self.server_url}/{database}"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        self.data_dir.mkdir(mode=0o700)
        self.runner.give(self.data_dir)
        self.log_file.touch(mode=0o600)
        self.runner.give(self.log_file)
        os.chmod(self.socket_dir, 0o700)
        self.runner.give(self.socket_dir)
        result = self.runner.run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        if result.returncode != 0:
            raise ServiceError(f"initdb failed: {result.stdout}{result.stderr}")

    def start(self) -> None:
        if not desk.port_is_free(self.port):
            raise ServiceError(f"port {self.port} was taken meanwhile")
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200"
        )
        result = self.runner.run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode != 0:
            raise ServiceError(f"PostgreSQL did not start: {_tail(self.log_file)}")

    def stop(self, mode: str = "fast") -> None:
        """`fast` (clean) or `immediate` (like a crash: recovery replays the WAL)."""
        result = self.runner.run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
        if result.returncode != 0 and self.is_running():
            raise ServiceError(f"PostgreSQL did not stop: {result.stderr.strip()}")

    def is_running(self) -> bool:
        return desk.tcp_reachable("127.0.0.1", self.port)

    def create_database(self, name: str) -> None:
        desk.ensure_database(self.url(name))

    def destroy(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port, no persistence: a restart starts empty, as after a crash
    of a Redis without AOF (every queued task message is lost)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server", path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
        if binary is None:
            raise ServiceError("no redis-server binary (apt-get install redis-server)")
        self.binary = binary
        self.log_file = workdir / "redis.log"
        self.port = desk.free_port(REDIS_FIRST_PORT)
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if desk.redis_ping("127.0.0.1", self.port):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise ServiceError(f"redis-server did not start: {_tail(self.log_file)}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, 5)
            self.process = None

    def destroy(self) -> None:
        self.stop()
