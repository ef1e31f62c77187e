"""The peer in our suite (issue 20, point 1): django-helpdesk's `POST /api/tickets/` against
our single-mention `POST /api/v1/mentions/`, side by side on the same PostgreSQL server.

The peer is installed by name (latest django-helpdesk from PyPI, with gunicorn and psycopg2)
into a scratch virtualenv outside the repository (PEER_HOME, default
~/.cache/sd-bench-peer; reused when present), with a minimal Django project written there on
the fly: helpdesk and rest_framework as its installation guide lists them, teams mode off,
the API authenticated by DRF's TokenAuthentication (its API guide leaves the authentication
to DEFAULT_AUTHENTICATION_CLASSES; the ticket endpoint needs a staff user, IsAdminUser),
e-mail templates loaded as step 8 of the guide says, the locmem e-mail backend (as ours).
Its database is sd_bench_peer, ours sd_bench_peer_ours (both dropped and created again).

Both run under gunicorn with 2 workers x 2 threads and are driven by bench.ingest's client
(push_run) with the same threads; the runs alternate peer, ours, peer, ours, … (--rounds
each), so a busy machine slows both alike. Prints both medians (tickets per second), the
ratio (target: ours >= 5 x the peer) and the p99 latency of each, and writes
bench/results/peer.json. Nothing of the peer's code enters the repository.

Usage: .venv/bin/python -m bench.peer [--requests 2000] [--rounds 3] [--clients 4]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import database_url as bench_database  # noqa: E402
from bench.common import (  # noqa: E402
    free_port,
    load_average,
    percentile,
    recreate_database,
    write_json,
)
from bench.ingest import (  # noqa: E402
    PushRun,
    ingest_environment,
    mention,
    prepare,
    push_run,
    start_gunicorn,
)

PEER_HOME = Path(os.environ.get("PEER_HOME", Path.home() / ".cache" / "sd-bench-peer"))
PEER_PACKAGES = ("django-helpdesk", "gunicorn", "psycopg2-binary")
PEER_DATABASE = "sd_bench_peer"
OURS_DATABASE = "sd_bench_peer_ours"
TARGET_RATIO = 5.0

SETTINGS = """\
import os
from urllib.parse import urlsplit

_db = urlsplit(os.environ["PEER_DATABASE_URL"])
SECRET_KEY = "bench-only-peer-secret-key"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
HELPDESK_TEAMS_MODE_ENABLED = False
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peerdesk.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": _db.path.lstrip("/"),
    "USER": _db.username or "",
    "PASSWORD": _db.password or "",
    "HOST": _db.hostname or "",
    "PORT": str(_db.port or ""),
    "CONN_MAX_AGE": 600,
}}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
}
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
MEDIA_ROOT = os.path.join(os.path.dirname(__file__), "media")
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGIN_URL = "helpdesk:login"
"""
URLS = """\
from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
"""
WSGI = """\
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerdesk.settings")
application = get_wsgi_application()
"""
SEED = textwrap.dedent(
    """\
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from helpdesk.models import Queue
    user = get_user_model().objects.create_user(
        "bench", "bench@example.com", "bench-only", is_staff=True, is_superuser=True)
    queue = Queue.objects.create(title="Bench", slug="bench")
    print(queue.pk, Token.objects.create(user=user).key)
    """
)


# --------------------------------------------------------------------------- the peer


def peer_python() -> Path:
    return PEER_HOME / "venv" / "bin" / "python"


def install_peer() -> str:
    """The scratch virtualenv with the peer (created once, reused); its version."""
    python = peer_python()
    if not (PEER_HOME / "venv" / "bin" / "gunicorn").exists():
        print(f"installing {', '.join(PEER_PACKAGES)} into {PEER_HOME / 'venv'} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_HOME / "venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
    project = PEER_HOME / "project"
    (project / "peerdesk").mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("__init__.py", ""), ("settings.py", SETTINGS), ("urls.py", URLS), ("wsgi.py", WSGI),
    ):  # fmt: skip
        (project / "peerdesk" / name).write_text(text)
    return subprocess.run(
        [str(python), "-c", "from importlib.metadata import version;"
         "print(version('django-helpdesk'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def peer_environment() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(Path.home()),
        "PYTHONPATH": str(PEER_HOME / "project"),
        "DJANGO_SETTINGS_MODULE": "peerdesk.settings",
        "PEER_DATABASE_URL": bench_database(PEER_DATABASE),
    }


def peer_manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(peer_python()), "-m", "django", *args],
        env=env, cwd=PEER_HOME / "project", check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def prepare_peer(env: dict[str, str]) -> tuple[int, str]:
    """Migrate, load the e-mail templates, create a staff user, its token and a queue."""
    recreate_database(PEER_DATABASE)
    peer_manage(env, "migrate", "--no-input")
    peer_manage(env, "loaddata", "emailtemplate.json")
    queue_id, token = peer_manage(env, "shell", "--no-imports", "-c", SEED).split()
    return int(queue_id), token


def peer_ticket(number: int, queue_id: int, prefix: str) -> dict:
    """The same post as bench.ingest.mention, as a django-helpdesk ticket."""
    body = mention(number, prefix, "")
    return {
        "queue": queue_id,
        "title": body["text"][:100],
        "description": body["text"],
        "submitter_email": f"kunde{number % 20_000}@example.com",
        "priority": 3,
    }


# --------------------------------------------------------------------------- main


def rate(run: PushRun) -> float:
    return len(run.statuses) / run.seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2_000, help="pushes per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, interleaved")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--json", default="peer.json", help="result file in bench/results")
    options = parser.parse_args(argv)

    version = install_peer()
    peer_env = peer_environment()
    queue_id, peer_token = prepare_peer(peer_env)
    ours_env = ingest_environment(OURS_DATABASE)
    recreate_database(OURS_DATABASE)
    ours_token = prepare(ours_env)

    peer_port, ours_port = free_port(), free_port()
    peer_server = start_gunicorn(
        peer_env, peer_port, gunicorn=PEER_HOME / "venv" / "bin" / "gunicorn",
        app="peerdesk.wsgi", cwd=PEER_HOME / "project", ready_path="/api/tickets/",
    )  # fmt: skip
    ours_server = start_gunicorn(ours_env, ours_port)
    created_at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    runs: dict[str, list] = {"peer": [], "ours": []}
    try:
        for round_number in range(options.rounds):
            prefix = f"r{round_number}"
            peer_bodies = [
                json.dumps(peer_ticket(n, queue_id, prefix)).encode()
                for n in range(options.requests)
            ]
            ours_bodies = [
                json.dumps(mention(n, prefix, created_at)).encode() for n in range(options.requests)
            ]
            runs["peer"].append(
                push_run(
                    peer_port, peer_token, peer_bodies, options.clients, path="/api/tickets/"
                )  # fmt: skip
            )
            runs["ours"].append(push_run(ours_port, ours_token, ours_bodies, options.clients))
            print(f"round {round_number + 1}: peer {rate(runs['peer'][-1]):,.0f}/s, "
                  f"ours {rate(runs['ours'][-1]):,.0f}/s", flush=True)  # fmt: skip
    finally:
        for server in (peer_server, ours_server):
            server.terminate()
            server.wait(timeout=30)

    def summary(name: str) -> dict:
        rates = [rate(run) for run in runs[name]]
        latencies = [ms for run in runs[name] for ms in run.latencies_ms]
        failures = [s for run in runs[name] for s in run.statuses if s != 201]
        return {
            "per_second": [round(r, 1) for r in rates],
            "median_per_second": round(statistics.median(rates), 1),
            "p50_ms": round(percentile(latencies, 0.5), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "failed_requests": len(failures),
        }

    peer, ours = summary("peer"), summary("ours")
    ratio = ours["median_per_second"] / peer["median_per_second"]
    results = {
        "measured_at": datetime.now(UTC).isoformat(),
        "peer": f"django-helpdesk {version}",
        "clients": options.clients,
        "gunicorn": "2 workers x 2 threads, each",
        "requests_per_run": options.requests,
        "rounds": options.rounds,
        "load_average": load_average(),
        "peer_run": peer,
        "ours_run": ours,
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
    }
    print(f"{'':<26} {'median/s':>9} {'runs/s':>24} {'p50 ms':>7} {'p99 ms':>7}")
    for label, data in ((f"django-helpdesk {version}", peer), ("ours (1 mention/push)", ours)):
        runs_text = ", ".join(f"{r:,.0f}" for r in data["per_second"])
        print(f"{label:<26} {data['median_per_second']:>9,.0f} {runs_text:>24} "
              f"{data['p50_ms']:>7.1f} {data['p99_ms']:>7.1f}")  # fmt: skip
    print(f"ratio ours / peer: {ratio:.2f} x (target >= {TARGET_RATIO:.0f} x: "
          f"{'met' if results['target_met'] else 'NOT met'})")  # fmt: skip
    write_json(options.json, results)
    failed = peer["failed_requests"] + ours["failed_requests"]
    if failed:
        raise SystemExit(f"{failed} requests failed")


if __name__ == "__main__":
    main()
