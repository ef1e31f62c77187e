"""The commands: the environment desk gives its children (written to `.local/` for other
terminals), and run (with its banner), test, manage and services-check."""

import atexit
import base64
import os
import secrets
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from .base import LOCAL, MANAGE, ROOT, VENV_BIN, DeskError, say, warn
from .probes import (
    database_name,
    ensure_database,
    free_port,
    libpq_url,
    port_is_free,
    redacted,
    with_path,
)
from .processes import run_foreground, supervise, venv_program
from .services import Services, resolve_services

DB_NAME = "servicedesk"
WEB_FIRST_PORT = 8000
DEMO_CRISIS_CONTACT = "krisenstab@servicedesk.example"  # ./desk run (unless given)
TEST_SECRET_KEY = "desk-test-only-secret-key-never-used-outside-tests-0123456789abcdef"


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
        # The demo's crisis contact, so an incident's alert e-mail shows in the console.
        variables["INCIDENT_CRISIS_CONTACTS"] = (
            os.environ.get("INCIDENT_CRISIS_CONTACTS", "").strip() or DEMO_CRISIS_CONTACT
        )
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
