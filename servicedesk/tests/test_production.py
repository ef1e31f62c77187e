"""Issue 18, point 8 (and issue 17's DEBUG-off run): the desk as it runs in production —
gunicorn, DEBUG off, HTTPS behind a proxy, static files through WhiteNoise — answers unknown
URLs, a bad Host header and a failed CSRF check with its own German pages (JSON under
/api/), never Django's debug page. Outgoing HTTP is logged without query strings."""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import RequestFactory
from django.utils import translation

from servicedesk.api import server_error
from servicedesk.logs import without_query_strings

ROOT = Path(__file__).resolve().parents[2]
DEBUG_MARKERS = (
    "Traceback",
    "DisallowedHost",
    "Using the URLconf",
    "DEBUG = True",
    "Request Method",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def production(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """gunicorn with the production defaults (DEBUG off, HTTPS redirect, HSTS, Secure
    cookies) against the test database; yields its base URL."""
    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "DATABASE_URL": f"{os.environ['DATABASE_URL'].rsplit('/', 1)[0]}/{database}",
        "ALLOWED_HOSTS": "desk.example",
    }
    env.pop("SECURE_SSL_REDIRECT", None)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "servicedesk.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/static/css/desk.css", timeout=1)
            break
        except httpx.HTTPError:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(10)


def get(base: str, path: str, *, host: str = "desk.example", **kwargs: Any) -> httpx.Response:
    headers = {"Host": host, "X-Forwarded-Proto": "https", "Accept-Language": "de"}
    return httpx.request(
        kwargs.pop("method", "GET"), f"{base}{path}", headers=headers, timeout=10, **kwargs
    )


def assert_desk_page(response: httpx.Response, status: int, heading: str) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in response.text
    assert 'id="error-page"' in response.text
    for marker in DEBUG_MARKERS:
        assert marker not in response.text


def test_an_unknown_page_is_the_desks_german_404(production: str) -> None:
    assert_desk_page(get(production, "/gibt-es-nicht/"), 404, "Seite nicht gefunden")


def test_an_unknown_api_path_is_json_404(production: str) -> None:
    response = get(production, "/api/v1/gibt-es-nicht/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_bad_host_header_is_the_desks_400_page(production: str) -> None:
    assert_desk_page(get(production, "/", host="evil.example"), 400, "Ungültige Anfrage")
    api = get(production, "/api/v1/tickets/", host="evil.example")
    assert api.status_code == 400 and api.json()["code"] == "bad_request"


def test_a_failed_csrf_check_is_the_desks_403_page(production: str) -> None:
    response = get(
        production, "/accounts/login/", method="POST", data={"username": "x", "password": "y"}
    )

    assert_desk_page(response, 403, "Formular abgelaufen")


def test_static_files_are_served_and_plain_http_is_redirected(production: str) -> None:
    css = get(production, "/static/css/desk.css")
    plain = httpx.get(f"{production}/accounts/login/", headers={"Host": "desk.example"})

    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://desk.example/")


def test_the_500_page_is_the_desks_own(rf: RequestFactory) -> None:
    with translation.override("de"):
        page = server_error(rf.get("/dashboard/"))
        api = server_error(rf.get("/api/v1/tickets/"))

    assert page.status_code == 500
    assert "<h1>Etwas ist schiefgelaufen</h1>" in page.content.decode()
    assert api.status_code == 500 and json.loads(api.content)["code"] == "server_error"


# --------------------------------------------------------------------------- logs


@pytest.fixture
def echo_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_outgoing_requests_are_logged_without_query_strings(echo_server: str, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        httpx.get(f"{echo_server}/v19.0/me/feed?access_token=EAAB-secret-token&fields=id")

    assert "HTTP Request: GET" in caplog.text
    assert f"{echo_server}/v19.0/me/feed?…" in caplog.text
    assert "secret-token" not in caplog.text


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("GET https://graph.example/me?access_token=x 200", "GET https://graph.example/me?… 200"),
        ("'https://a.example/p?t=1#f' failed", "'https://a.example/p?…' failed"),
        ("no URL here? fine", "no URL here? fine"),
    ],
)
def test_query_strings_are_cut_from_log_lines(line: str, shown: str) -> None:
    assert without_query_strings(line) == shown
