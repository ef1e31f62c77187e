"""The demo's information centre: a handful of articles written for the demo brands by the
department experts (and the team lead), the guideline articles, and the two mentions of the
lost-parcel story: a past case on the forum that was answered and resolved (its answer is
offered as a past answer) and a fresh one on the live demo channel that the CM hands to
Support, so anton finds it in his queue, sees the parcel article and the past answer, inserts
one and sends the reply.

Idempotent like the rest of the seed: an article that exists (by title and language) is left
as it is; the story mentions go through the intake, which stores nothing twice.
"""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from knowledge import actions as knowledge_actions
from knowledge.access import Departments
from knowledge.choices import ArticleStatus
from knowledge.models import Article
from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.models import Channel
from tickets import intake


@dataclass(frozen=True)
class DemoArticle:
    author: str  # username of the writer (an expert of `department`, or the team lead)
    department: str
    language: str
    title: str
    body: str
    tags: tuple[str, ...]
    product: str
    public_url: str = ""
    translation_of: str = ""  # title of the German version
    valid_until_days: int | None = None  # from the seed's day; negative: already expired


DEMO_ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        "lukas",
        "logistics",
        "de",
        "Paket verloren oder verschwunden: Nachforschungsauftrag",
        "Zeigt die **Sendungsverfolgung** seit drei Werktagen keinen neuen Status, gilt das "
        "Paket als verschollen. Wir starten dann einen Nachforschungsauftrag; das Ergebnis "
        "kommt innerhalb von fünf Werktagen.\n\n"
        "Bitte die Sendungsnummer per Direktnachricht schicken, nie öffentlich: sie gehört zu "
        "den persönlichen Daten.\n\n"
        "- Wertsendungen: bis 500 € Haftung\n"
        "- Ist das Paket nicht auffindbar, erstatten wir den Warenwert gegen Beleg.",
        ("paket", "verlust", "nachforschung", "sendungsverfolgung"),
        "PaketBlitz Paketversand",
        "https://www.paketblitz.example/hilfe/paket-verloren",
    ),
    DemoArticle(
        "lukas",
        "logistics",
        "en",
        "Lost or missing parcel: tracing request",
        "If the **tracking** has shown no new status for three working days, the parcel counts "
        "as missing and we open a tracing request; the result follows within five working "
        "days.\n\nPlease send the tracking number by direct message, never in public.",
        ("parcel", "lost", "tracing"),
        "PaketBlitz Paketversand",
        "https://www.paketblitz.example/en/help/lost-parcel",
        translation_of="Paket verloren oder verschwunden: Nachforschungsauftrag",
    ),
    DemoArticle(
        "lukas",
        "logistics",
        "de",
        "Blitzbox: Abholcode funktioniert nicht",
        "Meldet die Blitzbox „kein Paket für diesen Code“, liegt das Paket meist schon in einem "
        "anderen Fach. Den Abholcode in der App neu anfordern; klappt es dann nicht, prüft die "
        "Logistik die Station noch am selben Tag.",
        ("blitzbox", "abholcode", "packstation"),
        "PaketBlitz Blitzbox",
        "https://www.paketblitz.example/hilfe/blitzbox",
    ),
    DemoArticle(
        "lukas",
        "logistics",
        "de",
        "Zustellversuch: nicht angetroffen",
        "Wurde niemand angetroffen, stellen wir am nächsten Werktag erneut zu. Nach dem dritten "
        "Versuch geht das Paket in die Filiale. Eine Wunschzustellung (Nachbar, Ablageort) "
        "lässt sich in der App festlegen.",
        ("zustellung", "zustellversuch", "wunschzustellung"),
        "PaketBlitz Paketversand",
    ),
    DemoArticle(
        "berta",
        "billing",
        "de",
        "Erstattung bei Zugausfall und Verspätung",
        "Bei einem Zugausfall oder ab 60 Minuten Verspätung gibt es eine **Erstattung** von 25 "
        "bis 50 % des Fahrpreises. Der Antrag geht im Kundenkonto unter *Fahrgastrechte*; "
        "doppelt gekaufte Tickets erstatten wir vollständig.",
        ("fahrgastrechte", "erstattung", "verspätung"),
        "ZugPlus Fernverkehr",
        "https://www.zugplus.example/fahrgastrechte",
    ),
    DemoArticle(
        "theo",
        "technical",
        "de",
        "Internet bricht ständig ab: Router und Leitung prüfen",
        "1. Router 30 Sekunden vom Strom trennen.\n2. Kabel zur TAE-Dose prüfen.\n3. Bleiben "
        "die Abbrüche, misst die Technik die Leitung durch und schickt bei Bedarf einen "
        "Techniker (Termin per Direktnachricht).",
        ("internet", "router", "leitung", "störung"),
        "Telvia DSL",
        "https://www.telvia.example/hilfe/verbindungsabbrueche",
    ),
    DemoArticle(
        "vera",
        "sales",
        "de",
        "Hotelbuchung ändern oder stornieren",
        "Buchungen lassen sich bis 48 Stunden vor Anreise kostenlos ändern oder stornieren. "
        "Bei einer Überbuchung bieten wir ein gleichwertiges Zimmer in einem Partnerhotel an "
        "und übernehmen die Fahrtkosten.",
        ("buchung", "stornierung", "überbuchung"),
        "Lindenhaus Hotels",
        "https://www.lindenhaus-hotels.example/buchung",
    ),
    DemoArticle(
        "paul",
        "product",
        "de",
        "Rückruf: Bremsleitung Kessler K 750 (Baujahr 2025)",
        "Für die K 750 aus dem Baujahr 2025 gibt es einen Rückruf wegen der Bremsleitung. Die "
        "Vertragswerkstatt tauscht sie kostenlos; ob ein Motorrad betroffen ist, zeigt die "
        "Fahrgestellnummer (per Direktnachricht erfragen).",
        ("rückruf", "garantie", "bremse"),
        "Kessler Motorrad K 750",
    ),
    DemoArticle(
        "vera",
        "sales",
        "de",
        "Winterfahrplan: Sonderzüge zum Jahreswechsel",
        "Zum Jahreswechsel fahren zusätzliche Sprinter zwischen Hamburg und Berlin. Die Tickets "
        "sind ab sofort buchbar.",
        ("fahrplan", "sonderzug"),
        "ZugPlus Fernverkehr",
        valid_until_days=-3,  # past its date: the hourly sweep flags it to vera
    ),
)

# The lost-parcel story (see the module doc): the forum case of last week and today's.
PAST_PARCEL_MENTION = RawMention(
    external_id="https://www.paketforum.example/threads/paket-verschwunden.4411/#post-1",
    author=RawAuthor(handle="jana_wartet", display_name="Jana Krüger"),
    text="Hallo @PaketBlitz, mein Paket ist seit einer Woche verschwunden, die "
    "Sendungsverfolgung zeigt seit Montag nichts mehr. Was kann ich tun?",
    created_at=datetime(2026, 11, 2, 9, 15, tzinfo=UTC),  # replaced relative to the seed
)
PAST_PARCEL_ANSWER = (
    "Hallo Jana, das tut uns leid! Wenn die Sendungsverfolgung drei Werktage keinen neuen "
    "Status zeigt, starten wir einen Nachforschungsauftrag für dein Paket. Schick uns dafür "
    "bitte deine Sendungsnummer per Direktnachricht – wir melden uns innerhalb von fünf "
    "Werktagen mit dem Ergebnis. Viele Grüße, Anton"
)
LIVE_PARCEL_MENTION = RawMention(
    external_id="demo-story-lost-parcel",
    author=RawAuthor(handle="@paul_wartet", display_name="Paul Neumann"),
    text="@PaketBlitz Mein Paket ist verloren gegangen?! Laut Sendungsverfolgung liegt es seit "
    "einer Woche im Paketzentrum, seitdem nichts mehr. Wo ist es?",
    created_at=datetime(2026, 11, 2, 9, 15, tzinfo=UTC),  # replaced relative to the seed
)


def ensure_articles(people: dict[str, Any], departments: Departments, *, today: date) -> int:
    """The demo articles and the guideline articles that are missing; returns how many were
    created."""
    created = knowledge_actions.install_guideline_articles(actor=people["tina"])
    by_title: dict[str, Article] = {}
    for spec in DEMO_ARTICLES:
        existing = Article.objects.filter(title=spec.title, language=spec.language).first()
        if existing is not None:
            by_title[spec.title] = existing
            continue
        writer = people[spec.author]
        valid_until = (
            today + timedelta(days=spec.valid_until_days) if spec.valid_until_days else None
        )
        by_title[spec.title] = knowledge_actions.create_article(
            actor=writer,
            departments=Departments(known=departments.known, own=frozenset({spec.department})),
            language=spec.language,
            title=spec.title,
            body=spec.body,
            tags=spec.tags,
            product=spec.product,
            department=spec.department,
            public_url=spec.public_url,
            valid_until=valid_until,
            status=ArticleStatus.PUBLISHED,
            translation_of=by_title.get(spec.translation_of),
        )
        created += 1
    return created


def receive_story_mentions(*, now: datetime) -> None:
    """The two mentions of the lost-parcel story, through the intake (no SLA clocks, as for
    all seeded mentions). Known ids change nothing."""
    past = replace(PAST_PARCEL_MENTION, created_at=now - timedelta(days=9, hours=3))
    live = replace(LIVE_PARCEL_MENTION, created_at=now - timedelta(minutes=2))
    intake.receive_mentions(Channel.objects.get(slug="forum"), [past], now=now, live=False)
    intake.receive_mentions(Channel.objects.get(slug="demo"), [live], now=now, live=False)
