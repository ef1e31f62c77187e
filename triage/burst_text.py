"""The text features of burst detection (issue 14 §1): pure functions, no database.

A mention is reduced to what two posts about one incident share across platforms and
languages: the brand it is about (its stream), incident concepts from a small bilingual
lexicon (Störung/outage, ausgefallen/down …), the product or service concerned, place names
(German and English spellings folded to one) and identifiers such as train or flight
numbers. The kind says whether the post reports the incident at all: a weather warning, a
"wieder da" follow-up or a request for compensation does not, so it never seeds nor joins
a burst. The word tokeniser and the language guess are those of the triage rules.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from triage.rules import detect_language

_TOKEN = re.compile(r"[a-zäöüß0-9]+")
_IDENTIFIER = re.compile(r"\b([A-Z]{1,3})[ -]?(\d{1,5})\b")
_ALNUM = re.compile(r"[^a-z0-9äöüß]+")

# word (or word prefix ending in "*") → incident concept
INCIDENT_TERMS: dict[str, str] = {
    "störung": "outage", "störungen": "outage", "gestört": "outage", "stoerung": "outage",
    "ausfall": "outage", "ausgefallen": "outage", "totalausfall": "outage",
    "netzausfall": "outage", "outage": "outage", "down": "outage", "offline": "outage",
    "tot": "outage", "weg": "outage", "dead": "outage", "broken": "outage",
    "kaputt": "outage", "erreichbar": "outage", "unreachable": "outage",
    "funktioniert": "failure", "geht": "failure", "working": "failure", "works": "failure",
    "fehler": "failure", "fehlermeldung": "failure", "error": "failure", "crash": "failure",
    "fehlgeschlagen": "failure", "fehlgeschlagene": "failure",
    "abgestürzt": "failure", "stürzt": "failure", "crashes": "failure", "crashing": "failure",
    "failed": "failure", "fails": "failure", "laden": "failure", "lädt": "failure",
    "loading": "failure", "load": "failure", "verspätung": "delay", "verspätet": "delay",
    "delay": "delay", "delayed": "delay", "late": "delay", "stillstand": "delay",
    "stuck": "delay",
}  # fmt: skip
# words that only count as an incident term next to a negation ("geht nicht", "not working")
NEGATED_TERMS = frozenset({"funktioniert", "geht", "working", "works", "laden", "load", "lädt"})
NEGATIONS = frozenset({"nicht", "nix", "not", "kein", "keine", "no", "isn", "doesn", "won", "cant"})
NEGATIONS |= {"can", "t"}  # "can't" tokenises as can + t
# product or service words → subject
SUBJECT_TERMS: dict[str, str] = {
    "internet": "internet", "dsl": "internet", "glasfaser": "internet", "fiber": "internet",
    "fibre": "internet", "wlan": "internet", "wifi": "internet", "router": "internet",
    "broadband": "internet", "netz": "network", "network": "network", "mobilfunk": "network",
    "lte": "network", "5g": "network", "empfang": "network", "signal": "network",
    "telefon": "phone", "festnetz": "phone", "phone": "phone", "hotline": "hotline",
    "app": "app", "login": "login", "anmelden": "login", "anmeldung": "login",
    "einloggen": "login", "log": "login", "passwort": "login", "password": "login",
    "website": "website", "webseite": "website", "seite": "website", "homepage": "website",
    "sendungsverfolgung": "tracking", "tracking": "tracking", "paket": "parcel",
    "pakete": "parcel", "parcel": "parcel", "zustellung": "parcel", "zug": "train",
    "train": "train", "züge": "train", "trains": "train", "stellwerk": "train",
    "bahnhof": "station", "station": "station", "buchung": "booking", "booking": "booking",
    "zahlung": "payment", "payment": "payment", "bezahlen": "payment", "checkout": "payment",
    "tv": "tv", "fernsehen": "tv",
}  # fmt: skip
# German and English place names, folded to one spelling
PLACES: dict[str, str] = {
    "köln": "Köln", "koeln": "Köln", "cologne": "Köln", "ehrenfeld": "Köln",
    "münchen": "München", "muenchen": "München", "munich": "München", "hamburg": "Hamburg",
    "berlin": "Berlin", "frankfurt": "Frankfurt", "düsseldorf": "Düsseldorf",
    "duesseldorf": "Düsseldorf", "stuttgart": "Stuttgart", "kiel": "Kiel",
    "hannover": "Hannover", "hanover": "Hannover", "leipzig": "Leipzig", "dresden": "Dresden",
    "bremen": "Bremen", "nürnberg": "Nürnberg", "nuremberg": "Nürnberg", "bonn": "Bonn",
    "essen": "Essen", "dortmund": "Dortmund", "braunschweig": "Braunschweig",
    "mannheim": "Mannheim", "freiburg": "Freiburg", "münster": "Münster",
    "muenster": "Münster", "aachen": "Aachen", "mainz": "Mainz", "wiesbaden": "Wiesbaden",
}  # fmt: skip
# phrases that make a post something other than a report of the incident
RESTORED = (
    "wieder da", "geht wieder", "funktioniert wieder", "läuft wieder", "wieder online",
    "wieder erreichbar", "ist behoben", "wurde behoben", "back online", "working again",
    "works again", "is back", "are back", "back up", "fixed now", "all good again",
)  # fmt: skip
AFTERMATH = (
    "gutschrift", "entschädigung", "erstattung", "erstattet", "kompensation",
    "compensation", "refund", "credit for", "minderung",
)  # fmt: skip
WARNING = (
    "warnung", "unwetter", "warning", "vorhersage", "forecast", "angekündigt",
    "geplante wartung", "planned maintenance", "wartungsarbeiten", "könnte", "could be",
    "möglich sind", "are possible", "expected",
)  # fmt: skip


@dataclass(frozen=True)
class Lexicon:
    """What `features` looks words up in: word → incident concept, subject and place. The
    built-in lists above, extended by the desk's own words (`extended`: the triage rules of
    the incident kinds, edited in the admin)."""

    terms: dict[str, str]
    subjects: dict[str, str]
    places: dict[str, str]

    def extended(
        self, terms: dict[str, str], subjects: dict[str, str], places: dict[str, str]
    ) -> "Lexicon":
        """This lexicon with more words (a word given again takes the new meaning); a word
        added as an incident term counts without a negation."""
        return Lexicon(self.terms | terms, self.subjects | subjects, self.places | places)


BUILT_IN = Lexicon(INCIDENT_TERMS, SUBJECT_TERMS, PLACES)
WORD = re.compile(r"^[a-zäöüß0-9]+$")  # what a lexicon word must be: one token


REPORT = "report"
KINDS = (REPORT, "restored", "aftermath", "warning", "other")


@dataclass(frozen=True)
class BurstFeatures:
    stream: str  # the brand's keyword, "" when the post names none
    kind: str  # one of KINDS
    concepts: frozenset[str]
    subjects: frozenset[str]
    locations: frozenset[str]
    identifiers: frozenset[str]
    language: str

    @property
    def keys(self) -> list[str]:
        """The lookup keys of this mention (indexed on clusters): every shared feature."""
        return sorted(
            [f"c:{c}" for c in self.concepts]
            + [f"s:{s}" for s in self.subjects]
            + [f"l:{place}" for place in self.locations]
            + [f"i:{i}" for i in self.identifiers]
        )


def squash(text: str) -> str:
    """Lower case without anything but letters and digits: "@Telvia_hilft" → "telviahilft"."""
    return _ALNUM.sub("", text.lower())


def stream_of(text: str, keywords: Iterable[str]) -> str:
    """The keyword named first in `text` (handles and hashtags count: "@Telvia_hilft")."""
    squashed = squash(text)
    found = [(squashed.find(squash(k)), k) for k in keywords if squash(k)]
    found = [(position, k) for position, k in found if position >= 0]
    return min(found)[1] if found else ""


def features(
    text: str, keywords: Iterable[str], *, fallback_stream: str = "", lexicon: Lexicon = BUILT_IN
) -> BurstFeatures:
    lowered = text.lower()
    tokens = _TOKEN.findall(lowered)
    concepts: set[str] = set()
    for index, token in enumerate(tokens):
        concept = lexicon.terms.get(token)
        if concept is None:
            continue
        if token in NEGATED_TERMS and INCIDENT_TERMS.get(token) == concept:
            near = tokens[max(index - 3, 0) : index + 4]
            if not NEGATIONS.intersection(near):
                continue
        concepts.add(concept)
    if {"kein", "keine", "no"} & set(tokens) and {"internet", "netz", "signal", "empfang"} & set(
        tokens
    ):
        concepts.add("outage")
    subjects = {lexicon.subjects[t] for t in tokens if t in lexicon.subjects}
    locations = {lexicon.places[t] for t in tokens if t in lexicon.places}
    identifiers = {f"{a.lower()}{n}" for a, n in _IDENTIFIER.findall(text)}
    if any(phrase in lowered for phrase in RESTORED):
        kind = "restored"
    elif any(phrase in lowered for phrase in AFTERMATH):
        kind = "aftermath"
    elif any(phrase in lowered for phrase in WARNING):
        kind = "warning"
    elif concepts:
        kind = REPORT
    else:
        kind = "other"
    language, _confidence = detect_language(re.findall(r"[a-zäöüß]+", lowered))
    return BurstFeatures(
        stream=stream_of(text, keywords) or fallback_stream,
        kind=kind,
        concepts=frozenset(concepts),
        subjects=frozenset(subjects),
        locations=frozenset(locations),
        identifiers=frozenset(identifiers),
        language=language,
    )


@dataclass(frozen=True)
class Profile:
    """What a cluster's members have in common so far: feature → number of members."""

    members: int
    counts: dict[str, int]

    def common(self, prefix: str) -> set[str]:
        """Features of this kind carried by at least a third of the members."""
        wanted = max(1, -(-self.members // 3))
        return {key[2:] for key, n in self.counts.items() if key.startswith(prefix) and n >= wanted}


def match_score(mention: BurstFeatures, profile: Profile) -> int:
    """How strongly `mention` belongs to a cluster: 0 when not at all. It must share an
    incident concept and a subject, place or identifier (a report naming none of them only
    joins a cluster of two or more members), and must not name only other subjects and only
    other places than the cluster does."""
    shared_concepts = mention.concepts & profile.common("c:")
    if not shared_concepts:
        return 0
    score = 0
    for prefix, values in (
        ("s:", mention.subjects),
        ("l:", mention.locations),
        ("i:", mention.identifiers),
    ):
        common = profile.common(prefix)
        if values and common and not values & common:
            return 0  # another product, another place, another train
        score += 2 * len(values & common)
    if score == 0:
        # a bare report ("Telvia down?") joins a cluster that has become one (2+ members)
        bare = not (mention.subjects or mention.locations or mention.identifiers)
        return 1 if bare and profile.members >= 2 else 0
    return score + len(shared_concepts)
