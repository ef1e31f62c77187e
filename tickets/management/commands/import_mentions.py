"""`import_mentions FILE.jsonl [--channel SLUG] [--format api|flat] [--live]`.

Reads one mention per line, validates each with the API's serializer, and hands them to
the intake in chunks of 500 (each chunk one transaction). Re-running resumes: mentions
already stored come back as duplicates. Imports start no SLA clock unless --live.

`api` lines have the fields of `POST /api/v1/mentions/`; `flat` lines are shaped like the
sample file (`platform`, `author_handle`, `author_name`, `text`, `created_at`,
`in_reply_to`, `external_id`; other fields are ignored), the platform naming the channel.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from monitoring.api.serializers import validate_mentions
from tickets import intake

CHUNK_SIZE = 500  # lines per validation and intake transaction
MAX_LINE_BYTES = 16 * 1024 * 1024  # the API's body limit applies to each line too


def flat_to_api(line: dict[str, Any]) -> dict[str, Any]:
    """A line of the sample file's shape as a mention of the API."""
    return {
        "channel": line.get("platform"),
        "external_id": line.get("external_id"),
        "author": {
            "handle": line.get("author_handle"),
            "display_name": line.get("author_name"),
        },
        "text": line.get("text"),
        "created_at": line.get("created_at"),
        "in_reply_to": line.get("in_reply_to"),
    }


def _first_error(errors: Any) -> str:
    """One readable reason from a serializer's errors: `field: message`."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            inner = _first_error(value)
            return f"{field}.{inner}" if isinstance(value, dict) else f"{field}: {inner}"
    if isinstance(errors, list) and errors:
        return _first_error(errors[0])
    return str(errors)


class Command(BaseCommand):
    help = "Import mentions from a JSON Lines file through the intake (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a .jsonl file, one mention per line")
        parser.add_argument("--channel", help="channel slug for every line (overrides the file)")
        parser.add_argument("--format", choices=["api", "flat"], default="api")
        parser.add_argument(
            "--live", action="store_true", help="start SLA clocks as for live traffic"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        self.created = self.duplicates = 0
        self.rejected: list[tuple[int, str]] = []
        self.seen: set[tuple[int, str]] = set()
        total = sum(1 for _line in path.open("rb"))
        with tqdm(total=total, unit="line", disable=options.get("verbosity", 1) < 1) as bar:
            for chunk in self._chunks(path, options["format"]):
                self._import(chunk, channel=options["channel"], live=options["live"])
                bar.update(len(chunk))
        for number, reason in self.rejected:
            self.stderr.write(f"line {number}: {reason}")
        self.stdout.write(
            f"created {self.created}, duplicates {self.duplicates}, rejected {len(self.rejected)}"
        )

    def _chunks(self, path: Path, shape: str) -> Iterator[list[tuple[int, Any]]]:
        """(line number, payload or None) in chunks; unreadable lines are rejected here."""
        chunk: list[tuple[int, Any]] = []
        with path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                payload = self._parse(number, raw)
                if payload is not None:
                    if shape == "flat" and isinstance(payload, dict):
                        payload = flat_to_api(payload)
                    chunk.append((number, payload))
                if len(chunk) >= CHUNK_SIZE:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def _parse(self, number: int, raw: bytes) -> Any:
        if len(raw) > MAX_LINE_BYTES:
            self.rejected.append((number, "line longer than 16 MiB"))
            return None
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            self.rejected.append((number, f"not JSON: {error}"))
            return None
        if not isinstance(payload, dict):
            self.rejected.append((number, "not a JSON object"))
            return None
        return payload

    def _import(self, chunk: list[tuple[int, Any]], *, channel: str | None, live: bool) -> None:
        now = timezone.now()
        valid, errors = validate_mentions(
            [payload for _number, payload in chunk],
            now=now,
            channel_slug=channel,
            refuse_repeats=False,  # a repeated line is a duplicate (resuming), not an error
        )
        for error in errors:
            self.rejected.append((chunk[error["index"]][0], _first_error(error["errors"])))
        fresh = []
        for item in valid:
            key = (item.channel.pk, item.mention.external_id)
            if key in self.seen:  # repeated in the file: the first line counts
                self.duplicates += 1
                continue
            self.seen.add(key)
            fresh.append(item)
        if not fresh:
            return
        results = intake.receive_mention_batch(
            [(item.channel, item.mention) for item in fresh], now=now, live=live
        )
        for result in results:
            if result.status == "created":
                self.created += 1
            else:
                self.duplicates += 1
