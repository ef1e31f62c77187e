"""A local fake of a social platform's HTTP API for adapter tests.

A threaded `http.server` on 127.0.0.1 and a free port serves recorded payload files
(`monitoring/tests/payloads/<platform>/<case>.json`) per route and records every request
(method, path, query, headers, body). Responses are programmable: status, headers (such as
Retry-After), a malformed body, a delay (to provoke client timeouts), sequences ("fail twice,
then succeed": each call takes the next response, the last one repeats) and handlers that
compute the answer from the request (an idempotent webhook receiver).

A payload file is a recorded response: {"_source": "...", "status": 200, "headers": {...},
"body": ...}; `{base_url}` in a header is replaced by the server's address.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAYLOADS = Path(__file__).resolve().parent / "payloads"


def load_payload(name: str) -> dict[str, Any]:
    """A payload file by "<platform>/<case>"; it must name its source."""
    data = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    assert data.get("_source"), f"payload {name} names no source"
    return data


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class FakeResponse:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes → sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Responder = FakeResponse | Callable[[RecordedRequest], FakeResponse]


class FakePlatform:
    """Start with `FakePlatform()`, stop with `close()` (the `fake_platform` fixture does)."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._routes: dict[tuple[str, str], list[Responder]] = {}
        self._lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                response = platform._respond(request)
                if response.delay_seconds:
                    time.sleep(response.delay_seconds)
                payload = response.encoded()
                try:
                    self.send_response(response.status)
                    headers = {"Content-Type": "application/json", **response.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            # http.server dispatches to do_<METHOD>; all methods share one handler.
            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ programming

    def serve(self, method: str, path: str, *responses: Responder) -> None:
        """Answer `method path` with `responses` in turn; the last one repeats."""
        with self._lock:
            self._routes[(method.upper(), path)] = list(responses)

    def serve_payload(self, method: str, path: str, *names: str) -> None:
        """Answer with recorded payload files in turn (see `serve`)."""
        self.serve(method, path, *(self.payload_response(name) for name in names))

    def payload_response(self, name: str) -> FakeResponse:
        data = load_payload(name)
        headers = {
            key: value.replace("{base_url}", self.base_url)
            for key, value in (data.get("headers") or {}).items()
        }
        return FakeResponse(status=data.get("status", 200), body=data.get("body"), headers=headers)

    def _respond(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            queue = self._routes.get((request.method, request.path))
            if not queue:
                return FakeResponse(404, {"error": f"no route {request.method} {request.path}"})
            responder = queue.pop(0) if len(queue) > 1 else queue[0]
        return responder(request) if callable(responder) else responder

    # ------------------------------------------------------------------ inspection

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]
