"""Incident test data (issue 14): a demo channel and a burst of near-identical posts."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.models import Mention
from tickets.intake import receive_mentions
from tickets.tests.factories import ChannelFactory

OUTAGE = "Seit 10 Minuten kein Internet in Köln-Ehrenfeld, Störung?"


def demo_channel() -> Any:
    """A demo channel: its adapter posts replies without a network."""
    return ChannelFactory(slug="demo-incidents", platform=Platform.DEMO, own_accounts=["@desk"])


def post(channel: Any, count: int, *, start: int = 0, text: str = OUTAGE) -> list[Mention]:
    """`count` customers' posts through the intake (each opens its ticket), a second apart."""
    now = timezone.now()
    raw = [
        RawMention(
            external_id=f"post-{index}",
            author=RawAuthor(handle=f"@kunde{index}", display_name=f"Kim{index} Muster"),
            text=text,
            created_at=now - timedelta(seconds=60 - index),
        )
        for index in range(start, start + count)
    ]
    results = receive_mentions(channel, raw, now=now)
    return list(Mention.objects.filter(pk__in=[r.mention_id for r in results]).order_by("pk"))
