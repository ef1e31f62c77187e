"""The demo's burst (issue 14, "Done means"): a dozen near-identical complaints about one
outage, on the demo channel, in German and English, posted now-ish through the intake one at
a time (arrival order), so the detector opens an incident as it would for live traffic.
`./desk manage replay_burst` and the button on the incidents page call `replay_burst`."""

from datetime import datetime, timedelta

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.models import Channel
from tickets.intake import receive_mentions

BURST_SPACING_SECONDS = 20  # between two posts of the replayed burst

# (display name, handle, text): written for the demo; every post names the brand and place.
BURST_POSTS: tuple[tuple[str, str, str], ...] = (
    ("Jana Krüger", "jana_k", "@Telvia_hilft Internet in Köln weg? Seit 10 Minuten geht nichts"),
    ("Mehmet Aydin", "mehmet_a", "Telvia Störung in Köln? Mein Internet ist komplett tot"),
    ("Sophie Lang", "sophie_l", "@Telvia_hilft is the internet down in Cologne? Nothing loads"),
    ("Paul Winter", "paulw", "Kein Internet mehr in Köln-Ehrenfeld. Telvia, was ist da los?"),
    ("Lea Fischer", "lea_fi", "Telvia Köln: DSL ausgefallen, Router blinkt rot. Störung?"),
    ("Tom Becker", "tom_b", "@Telvia_hilft total internet outage in Cologne, whole street"),
    ("Nina Roth", "nina_r", "Bei uns in Köln auch Telvia Störung, Internet geht nicht"),
    ("Jonas Wolf", "jonas_w", "Telvia internet outage Cologne? Fibre dead for 15 minutes"),
    ("Emma Koch", "emma_k", "Glasfaser von Telvia in Köln ausgefallen, kein Internet #störung"),
    ("Ali Demir", "ali_d", "Telvia in Köln down? Internet weg, Telefon auch"),
    ("Mia Schäfer", "mia_s", "Mein Telvia Internet in Köln ist auch ausgefallen. Infos?"),
    ("Ben Hahn", "ben_h", "@Telvia_hilft Cologne internet is down for our whole office"),
)


def demo_burst_channel() -> Channel | None:
    """The active demo channel the burst is replayed into (the seed's `demo`), if any."""
    channels = Channel.objects.filter(platform=Platform.DEMO, is_active=True).order_by("pk")
    return channels.filter(slug="demo").first() or channels.first()


def replay_burst(channel: Channel, *, now: datetime) -> int:
    """Post the burst into `channel` with `created_at` spread over the last minutes before
    `now` (fresh external ids and authors per run: a replay is a new outage). Each post goes
    through the intake on its own, so the detector sees them in arrival order. Returns the
    number of posts."""
    run = now.strftime("%Y%m%d%H%M%S%f")
    count = len(BURST_POSTS)
    for index, (name, handle, text) in enumerate(BURST_POSTS):
        mention = RawMention(
            external_id=f"burst-{run}-{index}",
            author=RawAuthor(handle=f"@{handle}_{run[-6:]}", display_name=name),
            text=text,
            created_at=now - timedelta(seconds=BURST_SPACING_SECONDS * (count - index)),
            language="en" if "Cologne" in text else "de",
        )
        receive_mentions(channel, [mention], now=now)
    return count
