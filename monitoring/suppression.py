"""Posts the desk must not store again (an erased person's posts, issue 15).

Monitoring knows nothing about erasure: an app higher up (privacy) registers a function
that, for one channel and some external ids, answers which of them are suppressed and the
id of the row (a tombstone) that stands in for each. The intake asks before it resolves
authors or stores anything, so a suppressed post creates neither an identity nor a mention.
"""

from collections.abc import Callable, Sequence

from monitoring.models import Channel

# (channel, external ids) → {external id: (tombstone mention id, its ticket id or None)}
Suppressor = Callable[[Channel, Sequence[str]], dict[str, tuple[int, int | None]]]

_suppressors: list[Suppressor] = []


def register(suppressor: Suppressor) -> None:
    """Add `suppressor` (once; an app's ready() may run twice in tests)."""
    if suppressor not in _suppressors:
        _suppressors.append(suppressor)


def suppressed(channel: Channel, external_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
    """The suppressed ones among `external_ids` of `channel`, with their tombstone rows."""
    found: dict[str, tuple[int, int | None]] = {}
    if not external_ids:
        return found
    for suppressor in _suppressors:
        found.update(suppressor(channel, external_ids))
    return found
