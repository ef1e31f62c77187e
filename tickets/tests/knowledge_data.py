"""Hand-written articles for the demo brands and mentions labelled with the article that
answers them: the small labelled set the suggestion tests rank (and the demo's style)."""

from typing import Any

from knowledge import actions as knowledge_actions
from knowledge.access import Departments
from knowledge.models import Article
from monitoring.choices import Platform
from tickets import actions
from tickets.choices import ReplyKind, ReplyVisibility
from tickets.models import Reply, Ticket
from tickets.tests.factories import ChannelFactory, MentionFactory, TicketFactory

DEPARTMENTS = Departments(
    known={"billing": "Abrechnung", "technical": "Technik", "logistics": "Logistik",
           "sales": "Vertrieb", "product": "Produktmanagement"},
    own=frozenset(),
)  # fmt: skip

# key: (title, body, tags, product, department, language)
ARTICLES: dict[str, tuple[str, str, list[str], str, str, str]] = {
    "lost_parcel": (
        "Paket verloren oder verschwunden: Nachforschungsauftrag",
        "Zeigt die Sendungsverfolgung seit drei Werktagen keinen neuen Status, gilt das Paket "
        "als verschollen. Wir starten dann einen Nachforschungsauftrag.\n\n"
        "Bitte die Sendungsnummer per Direktnachricht schicken, nie öffentlich.",
        ["paket", "verlust", "nachforschung"],
        "PaketBlitz",
        "logistics",
        "de",
    ),
    "blitzbox": (
        "Blitzbox: Abholcode funktioniert nicht",
        "Meldet die Blitzbox „kein Paket für diesen Code“, liegt das Paket meist in einem "
        "anderen Fach. Den Abholcode neu in der App anfordern; sonst prüft die Logistik die "
        "Station.",
        ["blitzbox", "abholcode", "packstation"],
        "PaketBlitz",
        "logistics",
        "de",
    ),
    "missed_delivery": (
        "Zustellversuch: nicht angetroffen",
        "Wurde der Empfänger nicht angetroffen, stellen wir am nächsten Werktag erneut zu. "
        "Nach dem dritten Zustellversuch geht das Paket in die Filiale; eine Wunschzustellung "
        "lässt sich in der App festlegen.",
        ["zustellung", "zustellversuch"],
        "PaketBlitz",
        "logistics",
        "de",
    ),
    "refund": (
        "Erstattung bei Zugausfall und Verspätung",
        "Bei einem Zugausfall oder mehr als 60 Minuten Verspätung gibt es eine Erstattung "
        "eines Teils des Fahrpreises. Den Antrag stellst du im Kundenkonto unter "
        "Fahrgastrechte.",
        ["fahrgastrechte", "erstattung", "verspätung"],
        "ZugPlus",
        "billing",
        "de",
    ),
    "bike": (
        "Fahrradmitnahme im Regionalzug",
        "Fahrräder fahren im Regionalzug mit einer Fahrradkarte mit, solange Platz im "
        "Mehrzweckabteil ist. Im Berufsverkehr kann die Mitnahme eingeschränkt sein.",
        ["fahrrad"],
        "ZugPlus",
        "sales",
        "de",
    ),
    "line_drops": (
        "Internet bricht ständig ab: Router und Leitung prüfen",
        "Bricht die Verbindung immer wieder ab, zuerst den Router 30 Sekunden vom Strom "
        "trennen. Bleiben die Abbrüche, misst die Technik die Leitung durch und schickt bei "
        "Bedarf einen Techniker.",
        ["internet", "router", "leitung", "störung"],
        "Telvia DSL",
        "technical",
        "de",
    ),
    "cancellation": (
        "Vertrag kündigen",
        "Eine Kündigung nehmen wir über das Kontaktformular oder per Direktnachricht mit "
        "Kundennummer entgegen, nicht öffentlich. Die Frist steht in der Vertragsübersicht.",
        ["kündigung", "vertrag"],
        "Telvia",
        "billing",
        "de",
    ),
    "booking_change": (
        "Hotelbuchung ändern oder stornieren",
        "Eine Buchung lässt sich bis 48 Stunden vor Anreise kostenlos ändern oder stornieren. "
        "Bei Überbuchung bieten wir ein gleichwertiges Zimmer in einem Partnerhotel an.",
        ["buchung", "stornierung", "zimmer"],
        "Lindenhaus Hotels",
        "sales",
        "de",
    ),
    "recall": (
        "Rückruf: Bremsleitung Kessler K 750",
        "Für die K 750 aus 2025 gibt es einen Rückruf wegen der Bremsleitung. Die Werkstatt "
        "tauscht sie kostenlos; die Fahrgestellnummer zeigt, ob das Motorrad betroffen ist.",
        ["rückruf", "garantie", "bremse"],
        "Kessler Motorrad",
        "product",
        "de",
    ),
    "lost_parcel_en": (
        "Lost parcel: tracing request",
        "If the tracking shows no new status for three working days, the parcel counts as "
        "missing and we open a tracing request. Send us the tracking number by direct message.",
        ["parcel", "lost"],
        "PaketBlitz",
        "logistics",
        "en",
    ),
}

# A mention and the article that answers it best.
LABELLED_MENTIONS: tuple[tuple[str, str], ...] = (
    ("@PaketBlitz Mein Paket ist seit einer Woche verschwunden, die Sendungsverfolgung zeigt "
     "nichts Neues. Wo ist es?", "lost_parcel"),
    ("Paket verloren?? Tracking hängt seit Montag im Paketzentrum @PaketBlitz", "lost_parcel"),
    ("@PaketBlitz Sendung PB3319047721DE liegt laut App in der Blitzbox Lindenplatz, aber die "
     "Box sagt „kein Paket für diesen Code“. Was nun?", "blitzbox"),
    ("@PaketBlitz ihr seid echt zu blöd, ein Paket zuzustellen. Dritter Versuch, wieder „nicht "
     "angetroffen“.", "missed_delivery"),
    ("@ZugPlus_hilft RE 3 heute schon wieder ausgefallen. Bekomme ich mein Geld zurück? "
     "Rückerstattung?", "refund"),
    ("Darf ich mein Fahrrad im Regionalzug mitnehmen? @ZugPlus_hilft", "bike"),
    ("@Telvia_hilft Internet bricht seit Freitag alle 20 Minuten ab, Router schon neu "
     "gestartet.", "line_drops"),
    ("Ich will meinen Telvia Vertrag kündigen, wie geht das? @Telvia_hilft", "cancellation"),
    ("@LindenhausHotels Kann ich meine Buchung für nächste Woche noch stornieren?",
     "booking_change"),
    ("Meine K 750 ist vom Rückruf betroffen? Bremse fühlt sich komisch an @KesslerMotorrad",
     "recall"),
    ("@PaketBlitz my parcel is lost, tracking has not changed for days", "lost_parcel_en"),
)  # fmt: skip


def write_library(actor: Any) -> dict[str, Article]:
    """The articles above, published by `actor` (a team lead)."""
    articles: dict[str, Article] = {}
    for key, (title, body, tags, product, department, language) in ARTICLES.items():
        translation_of = articles.get("lost_parcel") if key == "lost_parcel_en" else None
        articles[key] = knowledge_actions.create_article(
            actor=actor,
            departments=DEPARTMENTS,
            language=language,
            title=title,
            body=body,
            tags=tags,
            product=product,
            department=department,
            status="published",
            translation_of=translation_of,
            public_url=f"https://hilfe.example/{key}",
        )
    return articles


def ticket_with_mention(text: str, *, channel: Any = None) -> Ticket:
    ticket = TicketFactory(mention=False, **({"channel": channel} if channel else {}))
    MentionFactory(ticket=ticket, channel=ticket.channel, customer=ticket.customer, text=text)
    return ticket


def resolved_case(text: str, answer: str, *, cm: Any, reviewer: Any) -> Reply:
    """A ticket on a hand-posted channel that the CM answered in public (`answer`, approved
    by `reviewer`, posted) and resolved."""
    channel = ChannelFactory(slug="forum", platform=Platform.RSS)
    ticket = ticket_with_mention(text, channel=channel)
    reply = actions.create_reply(
        ticket,
        actor=cm,
        text=answer,
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
        submit=True,
    )
    reply = actions.approve_reply(reply, actor=reviewer)
    reply = actions.confirm_reply_posted(reply, actor=cm, permalink="https://forum.example/1")
    actions.resolve_ticket(Ticket.objects.get(pk=ticket.pk), actor=cm)
    return Reply.objects.get(pk=reply.pk)
