"""A tiny receiver for the desk's webhook channels (DESIGN §6), for demos and local tests.

    .venv/bin/python bin/webhook_receiver.py --secret SECRET [--host 127.0.0.1] [--port 8765]

It accepts the replies a webhook channel (`webhook-demo` of seed_demo) POSTs to its
callback URL, verifies `X-Signature: sha256=<hex HMAC-SHA256 of "<X-Timestamp>.<body>">` under
the channel's signing secret (shown once when the channel is created or its secret rotated),
refuses stale timestamps, prints each reply, and answers `{"external_id": …}` so that the
desk marks the reply sent. A repeated `Idempotency-Key` gets the same external id again:
the desk may re-send after a timeout, and the receiver must not post twice.

Standard library only. The secret may also come from the environment (WEBHOOK_SECRET).
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 1024 * 1024  # a reply is a few KiB; anything bigger is not from the desk
MAX_CLOCK_SKEW_SECONDS = 300  # older or newer timestamps are refused (replayed requests)


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Signature the desk computes for `body` sent at `timestamp`."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_problem(
    secret: str, timestamp: str, signature: str, body: bytes, *, now: float
) -> str | None:
    """Why the request must be refused, or None when the signature and timestamp are good."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "missing or malformed X-Timestamp"
    if abs(now - sent_at) > MAX_CLOCK_SKEW_SECONDS:
        return "X-Timestamp too far from the receiver's clock"
    if not hmac.compare_digest(expected_signature(secret, timestamp, body), signature):
        return "bad X-Signature"
    return None


class ReplyLog:
    """External ids handed out per Idempotency-Key, so a re-sent reply is posted only once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, str] = {}

    def external_id_for(self, key: str) -> tuple[str, bool]:
        """(external id, is_new): the id already given for `key`, or a new one."""
        with self._lock:
            if key in self._by_key:
                return self._by_key[key], False
            external_id = f"webhook-demo-{key or len(self._by_key) + 1}"
            self._by_key[key] = external_id
            return external_id, True


def make_handler(secret: str, log: ReplyLog) -> type[BaseHTTPRequestHandler]:
    class ReceiverHandler(BaseHTTPRequestHandler):
        server_version = "webhook-receiver/1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._answer(413, {"detail": "body too large"})
                return
            body = self.rfile.read(length)
            problem = signature_problem(
                secret,
                self.headers.get("X-Timestamp", ""),
                self.headers.get("X-Signature", ""),
                body,
                now=time.time(),
            )
            if problem:
                print(f"refused a request: {problem}", flush=True)
                self._answer(401, {"detail": problem})
                return
            try:
                reply = json.loads(body)
            except ValueError:
                self._answer(400, {"detail": "body is not JSON"})
                return
            if not isinstance(reply, dict):
                self._answer(400, {"detail": "body is not a JSON object"})
                return
            external_id, is_new = log.external_id_for(self.headers.get("Idempotency-Key", ""))
            if is_new:
                print_reply(reply, external_id)
            else:
                print(f"repeated delivery of reply {reply.get('reply_id')}: ignored", flush=True)
            self._answer(200, {"external_id": external_id})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return  # print_reply says what matters; no access log noise

    return ReceiverHandler


def print_reply(reply: dict[str, Any], external_id: str) -> None:
    print(
        f"reply {reply.get('reply_id')} (ticket #{reply.get('ticket')}, "
        f"channel {reply.get('channel')}, {reply.get('visibility')}) "
        f"to {reply.get('recipient')} in reply to {reply.get('in_reply_to')} "
        f"→ posted as {external_id}\n    {reply.get('text')}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--secret",
        default=os.environ.get("WEBHOOK_SECRET", ""),
        help="the channel's signing secret (default: $WEBHOOK_SECRET)",
    )
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("the signing secret is required (--secret or WEBHOOK_SECRET)")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.secret, ReplyLog()))
    print(f"webhook receiver on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
