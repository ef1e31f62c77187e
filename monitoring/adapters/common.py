"""Small helpers several adapters share: a time-based cursor and HTML to plain text."""

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser

from monitoring.adapters.base import RawMention
from monitoring.adapters.http import parse_timestamp


@dataclass
class TimeCursor:
    """For platforms without a "since id" (Graph API comments, YouTube, RSS): the newest
    `created_at` seen and the ids seen at exactly that moment, so a re-poll neither loses a
    post that shares the newest timestamp nor reports the newest ones again."""

    since: datetime | None = None
    seen: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, cursor: str | None) -> "TimeCursor":
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            return cls(since=parse_timestamp(data["since"]), seen=set(data.get("seen", [])))
        except (ValueError, KeyError, TypeError):
            return cls()  # an unreadable cursor means a first poll; the intake is idempotent

    def is_new(self, mention: RawMention) -> bool:
        if self.since is None:
            return True
        if mention.created_at > self.since:
            return True
        return mention.created_at == self.since and mention.external_id not in self.seen

    def advanced(self, mentions: list[RawMention]) -> "TimeCursor":
        since, seen = self.since, set(self.seen)
        for mention in mentions:
            if since is None or mention.created_at > since:
                since, seen = mention.created_at, {mention.external_id}
            elif mention.created_at == since:
                seen.add(mention.external_id)
        return TimeCursor(since=since, seen=seen)

    def dump(self) -> str | None:
        if self.since is None:
            return None
        return json.dumps({"since": self.since.isoformat(), "seen": sorted(self.seen)})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(value: str) -> str:
    """Plain text of a platform's HTML (Mastodon content, RSS summaries)."""
    if "<" not in value:
        return html.unescape(value).strip()
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    text = "".join(extractor.parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
