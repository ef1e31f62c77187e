"""Collision detection: who else has a ticket open or is typing a reply on it.

Presence lives only in the cache (Redis): one entry per ticket holding the viewers seen in
the last PRESENCE_TTL_SECONDS. It is advisory, so it fails open: if the cache is down,
nobody is shown and nothing breaks.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

PRESENCE_TTL_SECONDS = 30  # a viewer disappears 30 s after his last ping (pings every 10 s)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    is_typing: bool


def _key(ticket_id: int) -> str:
    return f"presence:ticket:{ticket_id}"


def record_presence(ticket_id: int, user: Any, *, is_typing: bool, now: datetime) -> None:
    """Note that `user` has the ticket open (and whether he is typing) at `now`."""
    try:
        entries = cache.get(_key(ticket_id)) or {}
        entries = _fresh(entries, now)
        entries[str(user.pk)] = {
            "name": user.get_full_name() or user.get_username(),
            "typing": bool(is_typing),
            "seen": now.timestamp(),
        }
        cache.set(_key(ticket_id), entries, timeout=PRESENCE_TTL_SECONDS)
    except Exception:  # the cache is advisory here: fail open
        logger.warning("presence not recorded for ticket %s", ticket_id, exc_info=True)


def other_viewers(ticket_id: int, user: Any, *, now: datetime) -> list[Viewer]:
    """Everyone but `user` seen on the ticket within the TTL, typists first."""
    try:
        entries = _fresh(cache.get(_key(ticket_id)) or {}, now)
    except Exception:
        logger.warning("presence unavailable for ticket %s", ticket_id, exc_info=True)
        return []
    viewers = [
        Viewer(user_id=int(user_id), name=entry["name"], is_typing=entry["typing"])
        for user_id, entry in entries.items()
        if int(user_id) != user.pk
    ]
    return sorted(viewers, key=lambda viewer: (not viewer.is_typing, viewer.name))


def _fresh(entries: dict[str, dict[str, Any]], now: datetime) -> dict[str, dict[str, Any]]:
    limit = now.timestamp() - PRESENCE_TTL_SECONDS
    return {user_id: entry for user_id, entry in entries.items() if entry["seen"] >= limit}
