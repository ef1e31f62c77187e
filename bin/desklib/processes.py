"""Child processes: started in their own session (and killed with desk on Linux), run in
the terminal's foreground, or supervised side by side with their output prefixed; stopping
them; signal handlers for the duration of a block."""

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

from .base import ROOT, VENV_BIN, say, warn

if TYPE_CHECKING:
    from .services import Services

CHILD_STOP_SECONDS = 10.0
# Worker and beat are started again when they exit on their own (Celery can exit when the
# broker connection is lost), at most this often in five minutes; the web server is not.
RESTARTED_CHILDREN = ("worker", "beat")
MAX_RESTARTS_PER_5_MIN = 5

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


def venv_program(argv: Sequence[str]) -> list[str]:
    program = VENV_BIN / argv[0]
    return [str(program) if program.exists() else argv[0], *argv[1:]]


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
    commands: Mapping[str, Sequence[str]], env: Mapping[str, str], services: "Services"
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
