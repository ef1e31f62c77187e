"""A labelled corpus for burst detection (issue 14): one replayed day of mixed traffic with
three bursts across platforms and languages, decoys of every kind, and a quiet day without a
burst. Generated deterministically from a fixed seed (random.Random(seed)); texts are written
by hand, the generator only places them in time, on platforms and with authors.

Each post carries its label: the burst it belongs to (or None) and, for decoys, the kind of
decoy. `ENDS` says when each burst's incident is closed (the replay calls end_cluster then).
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

KEYWORDS = ("ZugPlus", "Telvia", "PaketBlitz", "Lindenhaus", "Kessler Motorrad")
PLATFORMS = ("twitter", "facebook", "instagram", "mastodon", "forum", "youtube", "review")
DAY = datetime(2026, 11, 12, tzinfo=UTC)
QUIET_DAY = datetime(2026, 11, 13, tzinfo=UTC)


@dataclass(frozen=True)
class Post:
    external_id: str
    platform: str
    handle: str
    text: str
    created_at: datetime
    burst: str | None = None  # the burst this post belongs to
    decoy: str = ""  # spread / unrelated / warning / aftermath / background


# The bursts: (name, start offset from the day's start, minutes it lasts, platforms, texts)
TELVIA_KOELN = [
    "@Telvia_hilft Internet in Köln komplett weg?! Seit 10 Minuten nichts mehr 😡",
    "Ist bei Telvia gerade eine Störung in Köln? Mein Internet ist tot",
    "@Telvia_hilft is your internet down in Cologne? Nothing loads here in Ehrenfeld",
    "Telvia Störung Köln – DSL ausgefallen, Router blinkt nur noch rot",
    "Kein Internet mehr in Köln-Ehrenfeld. Telvia, was ist los??",
    "@Telvia_hilft total outage in Cologne, whole street has no internet",
    "Danke Telvia 👍 Internet ausgefallen mitten im Homeoffice. Köln, Nippes",
    "Bei uns in Köln auch Telvia Störung, Internet geht nicht, Hotline besetzt",
    "Telvia internet outage Cologne? My fibre is dead since 18:05",
    "Glasfaser von Telvia in Köln tot. Seit einer Viertelstunde kein Netz #telvia #störung",
    "Telvia in Köln down? Internet weg, Telefon auch",
    "Mein Telvia Internet in Köln ist auch ausgefallen. Gibt es schon eine Info?",
    "Hey @Telvia_hilft, Cologne internet is down for everyone in our office",
    "Telvia Köln Störung seit 18 Uhr, Internet tot 😤",
    "Telvia down?? 😡",
    "is Telvia down for anyone else? nothing works",
]
PAKETBLITZ_APP = [
    "@PaketBlitz die App lässt mich nicht einloggen, Fehler beim Login",
    "PaketBlitz App login not working? Keeps saying error 503",
    "Kann mich seit einer halben Stunde nicht in der PaketBlitz App anmelden. Fehler 503",
    "Is the PaketBlitz app down? Login fails every time",
    "PaketBlitz App: Anmeldung funktioniert nicht, Fehlermeldung 503 😩",
    "@PaketBlitz login in der App geht nicht mehr, Sendungsverfolgung also auch nicht",
    "PaketBlitz app error 503 on login, can't track my parcel",
    "Bei PaketBlitz geht der Login in der App nicht. Fehler!",
]
ZUGPLUS_HAMBURG = [
    "@ZugPlus_hilft Stellwerksstörung Hamburg? Alle Züge stehen, massive Verspätung",
    "ZugPlus: Hamburg Hbf nichts fährt, Störung am Stellwerk, 40 Minuten Verspätung",
    "Trains delayed at Hamburg, ZugPlus says signal failure. Stuck for 30 min",
    "ZugPlus Zug in Hamburg steht seit 25 Minuten, Verspätung wegen Störung",
    "Stuck at Hamburg station, ZugPlus trains delayed again, outage at the signal box?",
    "ZugPlus Störung Hamburg Hbf, mein Zug hat jetzt 50 Minuten Verspätung 🙄",
    "@ZugPlus_hilft Hamburg: Verspätung ohne Ende, Stellwerk Störung, Zug fällt aus",
]
BURSTS = (
    ("telvia-koeln", timedelta(hours=18, minutes=5), 16, TELVIA_KOELN),
    ("paketblitz-app", timedelta(hours=11, minutes=40), 14, PAKETBLITZ_APP),
    ("zugplus-hamburg", timedelta(hours=7, minutes=10), 18, ZUGPLUS_HAMBURG),
)
# when the incident of each burst is closed, after its start
ENDS = {"telvia-koeln": timedelta(minutes=55), "paketblitz-app": timedelta(minutes=50),
        "zugplus-hamburg": timedelta(minutes=60)}  # fmt: skip

# The same complaint now and then over the day: each alone, never a burst.
SPREAD = [
    "@Telvia_hilft Internet in Köln schon wieder gestört, das nervt",
    "Telvia internet down again in Cologne, third time this week",
    "Mein Telvia DSL in Köln fällt ständig aus. Störung?",
    "PaketBlitz App Login geht nicht, Fehler 503",
    "ZugPlus mal wieder Verspätung in Hamburg, Störung am Stellwerk",
    "Telvia Störung in Köln? Internet weg",
    "PaketBlitz app login error again",
    "ZugPlus train delayed in Hamburg, signal failure",
]
# Posted inside a burst's minutes about something else (praise, other topics, other brands).
UNRELATED = {
    "telvia-koeln": [
        "Telvia Internet in Köln läuft bei mir super, danke für den schnellen Techniker! 😊",
        "@Telvia_hilft wie kann ich meinen Tarif wechseln? Ich wohne in Köln",
        "Telvia hat mir die Rechnung doppelt abgebucht, Kundennummer schicke ich per DM",
        "PaketBlitz hat mein Paket in Köln beim Nachbarn abgegeben, top!",
        "Connecta Internet in Köln ist seit Wochen super stabil",
        "Lindenhaus Hotel in Köln: wunderbares Frühstück, gerne wieder",
        "Telvia Mobilfunk in München: kein Netz in der U-Bahn, ist das normal?",
    ],
    "paketblitz-app": [
        "PaketBlitz Fahrer war heute super freundlich, danke!",
        "Wann liefert PaketBlitz samstags? Warte auf ein Paket",
        "PaketBlitz Paket beschädigt angekommen, wer zahlt das?",
        "ZugPlus App zeigt mir die Sitzplatzreservierung nicht an",
        "Schnellpost hat mein Paket verloren, nie wieder",
    ],
    "zugplus-hamburg": [
        "ZugPlus Bordbistro heute richtig gut, danke an das Team 👍",
        "Wie viel kostet die ZugPlus BahnCard für Studenten?",
        "ZugPlus in München pünktlich wie nie, Respekt",
        "Telvia Router neu eingerichtet, läuft",
    ],
}
# A warning posted before a burst: about the same place and brand, but no report of it.
WARNINGS = {
    "telvia-koeln": "Unwetterwarnung für Köln ab 18 Uhr: Sturmböen, Ausfälle bei Telvia "
    "Internet und Strom sind möglich. Bleibt sicher!",
    "paketblitz-app": "PaketBlitz: geplante Wartung der App heute Vormittag, Login könnte "
    "kurz gestört sein",
}
# After the incident has been closed: follow-ups belong to its aftermath, not its burst.
AFTERMATH = {
    "telvia-koeln": [
        "Internet ist wieder da in Köln, danke Telvia",
        "@Telvia_hilft Cologne internet is back, thanks",
        "Telvia: gibt es eine Gutschrift für die Störung gestern Abend in Köln?",
        "Telvia Internet in Köln läuft wieder online, endlich",
        "@Telvia_hilft Internet in Köln immer noch tot bei mir?",
    ],
    "paketblitz-app": [
        "PaketBlitz App Login geht wieder 👍",
        "PaketBlitz app is back, login works again",
    ],
    "zugplus-hamburg": [
        "ZugPlus Hamburg: Züge fahren wieder, Störung ist behoben",
        "Bekomme ich eine Erstattung für die Verspätung in Hamburg, ZugPlus?",
    ],
}
# Ordinary traffic: questions, praise, single complaints (never a report of an incident
# in the minutes of another).
BACKGROUND = [
    "@ZugPlus_hilft kann ich mit dem Sparpreis einen früheren Zug nehmen?",
    "Danke ZugPlus für die pünktliche Fahrt nach Berlin!",
    "Lindenhaus Hotels: ist das Frühstück im Preis enthalten?",
    "Kessler Motorrad Inspektion, wie lange dauert die?",
    "Telvia: wann kommt der Glasfaser-Techniker ungefähr?",
    "PaketBlitz Paket heute pünktlich da, danke",
    "Lindenhaus Hotel Hamburg war wunderbar, gerne wieder",
    "Kessler Motorrad neue Maschine probegefahren, ein Traum",
    "Telvia how do I change my billing address?",
    "ZugPlus: where can I find the quiet carriage?",
    "PaketBlitz: can I redirect my parcel to a shop?",
    "Lindenhaus late check-out possible?",
    "Telvia Tarif zu teuer, gibt es was günstigeres?",
    "ZugPlus WLAN im Zug heute richtig schnell 👍",
    "Kessler Motorrad: Ersatzteil bestellt, wann kommt es?",
    "PaketBlitz Abholstation in Leipzig hat neue Öffnungszeiten?",
]


def _place(rng: random.Random, start: datetime, minutes: float, count: int) -> list[datetime]:
    """`count` moments in [start, start + minutes], the first at start, sorted."""
    seconds = sorted(rng.uniform(0, minutes * 60) for _ in range(count - 1))
    return [start] + [start + timedelta(seconds=s) for s in seconds]


def day(*, seed: int = 14, quiet: bool = False) -> list[Post]:
    """The posts of one day in the order of their `created_at`."""
    rng = random.Random(seed)
    base = QUIET_DAY if quiet else DAY
    posts: list[Post] = []

    def add(text: str, at: datetime, burst: str | None = None, decoy: str = "") -> None:
        platform = rng.choice(PLATFORMS)
        number = len(posts) + 1
        posts.append(
            Post(
                f"{base:%m%d}-{number:04d}",
                platform,
                f"@user{rng.randrange(10_000)}",
                text,
                at.replace(microsecond=0),
                burst,
                decoy,
            )  # fmt: skip
        )

    # background: 24 posts per hour, spread over the day
    for hour in range(24):
        for _ in range(24):
            at = base + timedelta(hours=hour, seconds=rng.uniform(0, 3600))
            add(rng.choice(BACKGROUND), at, decoy="background")
    # spread complaints: one every three hours, away from the bursts
    for index, text in enumerate(SPREAD):
        add(text, base + timedelta(hours=1 + 3 * index, minutes=rng.uniform(0, 20)), decoy="spread")
    for name, offset, minutes, texts in BURSTS:
        start = base + offset
        if name in WARNINGS:
            add(WARNINGS[name], start - timedelta(minutes=rng.uniform(35, 50)), decoy="warning")
        if quiet:
            continue
        platforms = list(PLATFORMS[:5])
        for index, at in enumerate(_place(rng, start, minutes, len(texts))):
            # every burst spans platforms: the first five members on five platforms
            posts.append(
                Post(
                    f"{base:%m%d}-b{name}-{index:02d}",
                    platforms[index % 5] if index < 5 else rng.choice(PLATFORMS),
                    f"@fan{rng.randrange(10_000)}",
                    texts[index],
                    at.replace(microsecond=0),
                    name,
                )  # fmt: skip
            )
        for text in UNRELATED[name]:
            add(text, start + timedelta(minutes=rng.uniform(0, minutes)), decoy="unrelated")
        for text in AFTERMATH[name]:
            at = start + ENDS[name] + timedelta(minutes=rng.uniform(1, 30))
            add(text, at, decoy="aftermath")
    return sorted(posts, key=lambda post: (post.created_at, post.external_id))
