"""Fixtures of the browser tests: Debian's Chromium for Playwright, a local fake platform
that receives webhook replies, and signing in through the real login form."""

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tickets.tests.dashboard_data import DeskMonth, build_desk_month

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# test body are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded one."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "locale": "de-DE"}


class FakePlatform:
    """A webhook receiver standing in for a social platform: records every reply posted
    to it and answers with an external id, as DESIGN §6 expects from a bridge."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.loads(body or b"{}")
                platform.received.append(payload)
                answer = json.dumps({"external_id": f"fake-{payload.get('reply_id')}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replies"

    def texts(self) -> list[str]:
        return [payload.get("text", "") for payload in self.received]


@pytest.fixture
def fake_platform() -> Iterator[FakePlatform]:
    platform = FakePlatform()
    thread = threading.Thread(target=platform.server.serve_forever, daemon=True)
    thread.start()
    yield platform
    platform.server.shutdown()
    platform.server.server_close()


@pytest.fixture
def screenshot() -> Any:
    """`screenshot(page, "step")` saves artifacts/screenshots/<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{step}.png"), full_page=True)

    return take


@pytest.fixture
def sign_in(browser: Any, live_server: Any) -> Any:
    """`sign_in(user)` opens a new browser context and signs `user` in through the form."""
    contexts = []

    def open_as(user: Any, password: str = "pw-for-tests-1") -> Any:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="de-DE")
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", password)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def month(cm: Any, agent: Any, other_agent: Any) -> DeskMonth:
    """The desk month of `dashboard_data` with its hand-computed figures (reports, page,
    CSV and API tests)."""
    return build_desk_month(cm=cm, agent=agent, other_agent=other_agent)
